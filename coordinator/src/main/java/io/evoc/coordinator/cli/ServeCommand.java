package io.evoc.coordinator.cli;

import io.evoc.coordinator.search.Ranges;
import io.evoc.coordinator.server.EvocServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "serve", mixinStandardHelpOptions = true, defaultValueProvider = ServeEnvironment.class,
    description = "Runs a node of the compression cluster: jobs over HTTP, kept in a data directory. With no "
        + "options, a single node with every role and an embedded journal. Each flag can also come from the "
        + "environment: --seed-nodes from EVOC_SEED_NODES, --port from EVOC_PORT, and so on; a flag given wins.")
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--port", paramLabel = "P", description = "HTTP port (evoc.http.port, default 8080; 0: any free).")
  Integer port;

  @Option(names = "--host", paramLabel = "H", description = "HTTP interface (evoc.http.host, default 127.0.0.1).")
  String host;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Jobs, uploads, artifacts and the journal "
      + "(evoc.data-dir, EVOC_DATA_DIR; default evoc-data).")
  Path dataDir;

  @Option(names = "--blobs-dir", paramLabel = "DIR", description = "Uploads, checkpoints and artifacts by SHA-256 "
      + "(evoc.blobs-dir, EVOC_BLOBS_DIR; default <data-dir>/blobs). Coordinator-role nodes that take over from "
      + "each other share it, with a PostgreSQL journal.")
  Path blobsDir;

  @Option(names = "--cluster-port", paramLabel = "C", description = "Pekko remoting port (default 2551; 0: any free).")
  Integer clusterPort;

  @Option(names = "--advertise", paramLabel = "HOST", description = "The name other nodes reach this one by, for "
      + "remoting and blob downloads (default 127.0.0.1: a cluster on one machine).")
  String advertise;

  @Option(names = "--seed-nodes", paramLabel = "HOST:PORT[,...]", description = "Cluster ports of nodes to join;"
      + " none: this node forms a cluster of its own.")
  String seedNodes;

  @Option(names = "--roles", paramLabel = "ROLE[,...]", description = "coordinator, evaluator, finalizer (default: all).")
  String roles;

  @Option(names = "--devices", paramLabel = "DEVICE[,...]", description = "Devices to score on, one evaluator each: "
      + "cpu, or gpu:0,gpu:1 (evoc.devices, default cpu).")
  String devices;

  @Option(names = "--token", paramLabel = "T", description = "Bearer token of the API (evoc.token, EVOC_TOKEN; "
      + "default: generated at the first start and kept in the data directory).")
  String token;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    while (true) {
      try (EvocServer server = EvocServer.start(overrides(), out)) {
        if (!server.awaitTermination()) {
          return 0;
        }
      }
      // Downed by the cluster (an evaluator that lost its coordinator, a partition's losing side):
      // the node starts afresh and joins its seed nodes again, instead of lingering outside.
      out.println("evoc: this node was downed by the cluster; starting again to rejoin");
      out.flush();
    }
  }

  /** The flags as config paths: they override application.conf and the environment. */
  Map<String, Object> overrides() {
    Map<String, Object> m = new LinkedHashMap<>();
    if (port != null) {
      Ranges.check("--port", port, 0, 65535);
      m.put("evoc.http.port", port);
    }
    if (host != null) {
      m.put("evoc.http.host", host);
    }
    if (dataDir != null) {
      m.put("evoc.data-dir", dataDir.toString());
    }
    if (blobsDir != null) {
      m.put("evoc.blobs-dir", blobsDir.toString());
    }
    if (clusterPort != null) {
      Ranges.check("--cluster-port", clusterPort, 0, 65535);
      m.put("pekko.remote.artery.canonical.port", clusterPort);
    }
    if (token != null) {
      m.put("evoc.token", token);
    }
    if (advertise != null) {
      m.put("pekko.remote.artery.canonical.hostname", advertise);
      m.put("evoc.http.advertised-host", advertise);
    }
    if (roles != null) {
      m.put("evoc.roles", split(roles, "--roles"));
    }
    if (devices != null) {
      List<String> list = split(devices, "--devices");
      for (String d : list) {
        io.evoc.evaluator.engine.Devices.parse(d); // a wrong name fails here, not in an evaluator
      }
      m.put("evoc.devices", list);
    }
    if (seedNodes != null) {
      List<String> seeds = split(seedNodes, "--seed-nodes").stream().map(ServeCommand::seedAddress).toList();
      m.put("pekko.cluster.seed-nodes", seeds);
    }
    return m;
  }

  private static List<String> split(String text, String flag) {
    List<String> parts = Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    if (parts.isEmpty()) {
      throw new IllegalArgumentException(flag + " '" + text + "': expected a comma-separated list");
    }
    return parts;
  }

  private static String seedAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || !hostPort.substring(colon + 1).matches("\\d{1,5}")) {
      throw new IllegalArgumentException("--seed-nodes '" + hostPort + "': expected HOST:PORT");
    }
    return "pekko://evoc@" + hostPort;
  }
}
