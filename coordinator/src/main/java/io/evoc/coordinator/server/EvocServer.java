package io.evoc.coordinator.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.evoc.coordinator.server.finalizer.FinalizerActor;
import io.evoc.coordinator.server.http.ApiRoutes;
import io.evoc.coordinator.server.jobs.JobManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import io.evoc.evaluator.cluster.EvaluatorActor;
import io.evoc.evaluator.engine.Devices;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;

/**
 * One node of the compression cluster: the actor system (Pekko Cluster; a cluster of its own
 * without seed nodes), the embedded journal's schema, the job book and the HTTP API.
 */
public final class EvocServer implements AutoCloseable {
  private final ActorSystem<Void> system;
  private final ServerBinding binding;
  private final ExecutorService blocking;

  /**
   * @param overrides config paths to values, over application.conf and reference.conf (the flags
   *     of {@code evoc serve})
   */
  public static EvocServer start(Map<String, Object> overrides, PrintWriter out) throws IOException {
    Config config = config(overrides);
    Path dataDir = Path.of(config.getString("evoc.data-dir")).toAbsolutePath().normalize();
    String token = token(config, dataDir, out);
    return new EvocServer(config, dataDir, token, out);
  }

  /** The node's configuration: the overrides over application.conf and reference.conf, checked. */
  public static Config config(Map<String, Object> overrides) throws IOException {
    // Resolved after the flags are in, so that keys defined from others (pekko.cluster.roles from
    // evoc.roles) follow the flags too.
    Config base = ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.defaultOverrides())
        .withFallback(ConfigFactory.defaultApplication()).withFallback(ConfigFactory.defaultReferenceUnresolved())
        .resolve();
    checkRoles(base.getStringList("evoc.roles"));
    Path dataDir = Path.of(base.getString("evoc.data-dir")).toAbsolutePath().normalize();
    Files.createDirectories(dataDir);
    Map<String, Object> derived = new HashMap<>();
    if (base.getString("pekko-persistence-jdbc.shared-databases.evoc.profile").contains("H2Profile")) {
      // H2 takes no path relative to the working directory: the journal's URL is made absolute here.
      // WRITE_DELAY=0 writes each commit through at once: by default H2 keeps a second of commits in
      // memory, and a node killed with SIGKILL lost events it had acknowledged.
      derived.put("pekko-persistence-jdbc.shared-databases.evoc.db.url",
          "jdbc:h2:file:" + dataDir.resolve("journal") + ";DB_CLOSE_DELAY=-1;WRITE_DELAY=0");
    }
    return ConfigFactory.parseMap(derived).withFallback(base);
  }

  /** A misspelt role would otherwise start a node that silently does nothing of it. */
  private static void checkRoles(List<String> roles) {
    List<String> known = List.of(Coordinator.ROLE, "evaluator", FinalizerActor.ROLE);
    for (String role : roles) {
      if (!known.contains(role)) {
        throw new IllegalArgumentException("evoc.roles (--roles): unknown role '" + role + "'; expected "
            + String.join(", ", known));
      }
    }
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("evoc.roles (--roles): no role; expected some of " + String.join(", ", known));
    }
  }

  private EvocServer(Config config, Path dataDir, String token, PrintWriter out) throws IOException {
    system = ActorSystem.create(Behaviors.empty(), "evoc", config);
    blocking = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "evoc-uploads");
      t.setDaemon(true);
      return t;
    });
    try {
      Cluster cluster = Cluster.get(system);
      List<String> seeds = config.getStringList("pekko.cluster.seed-nodes");
      boolean bootstrap = config.getBoolean("evoc.cluster.bootstrap");
      boolean alone = !bootstrap && seeds.isEmpty();
      if (bootstrap) {
        // Kubernetes and the like: the nodes find each other through service discovery and the
        // management endpoint, and form (or join) the cluster without any seed-node list.
        PekkoManagement.get(system).start().toCompletableFuture().join();
        ClusterBootstrap.get(system).start();
      } else if (alone) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      List<String> roles = config.getStringList("evoc.roles");
      String blobsDir = config.getString("evoc.blobs-dir");
      BlobStore blobs = new BlobStore(blobsDir.isBlank() ? dataDir.resolve("blobs") : Path.of(blobsDir).toAbsolutePath());
      blobs.clearIncoming();
      ServerMetrics metrics = new ServerMetrics();
      metrics.clusterMembers(() -> (int) java.util.stream.StreamSupport.stream(
          cluster.state().getMembers().spliterator(), false)
          .filter(m -> m.status() == org.apache.pekko.cluster.MemberStatus.up()).count());
      String host = config.getString("evoc.http.host");
      String advertised = config.getString("evoc.http.advertised-host");
      boolean coordinator = roles.contains(Coordinator.ROLE);
      if (coordinator) {
        SchemaUtils.createIfNotExists(system).toCompletableFuture().join();
      }
      if (roles.contains("evaluator")) {
        // Under one parent, /system/evaluators/N: the path remoting's large-message lane is set for.
        List<String> devices = config.getStringList("evoc.devices");
        system.systemActorOf(Behaviors.setup(ctx -> {
          for (int i = 0; i < devices.size(); i++) {
            ctx.spawn(EvaluatorActor.create(Devices.parse(devices.get(i)), devices.get(i), token), Integer.toString(i),
                DispatcherSelector.fromConfig("evoc.evaluator-dispatcher"));
          }
          return Behaviors.empty();
        }), "evaluators", Props.empty());
      }
      Coordinator.Here here = new Coordinator.Here();
      ApiRoutes routes = new ApiRoutes(system, coordinator, here, blobs, metrics, token, blocking,
          config.getBytes("evoc.limits.upload-bytes"));
      binding = Http.get(system).newServerAt(host, config.getInt("evoc.http.port")).bind(routes.routes())
          .toCompletableFuture().join();
      String apiUrl = "http://" + (advertised.isBlank() ? host : advertised) + ":" + binding.localAddress().getPort();
      java.time.Duration unitTimeout = config.getDuration("evoc.scoring.unit-timeout");
      if (roles.contains(FinalizerActor.ROLE)) {
        system.systemActorOf(FinalizerActor.create(new FinalizerActor.Settings(blobs, dataDir.resolve("finalize"),
            unitTimeout, metrics, apiUrl, token)), "finalizer", Props.empty());
      }
      if (coordinator) {
        Coordinator.init(system, new Coordinator.Settings(blobs, dataDir.resolve("jobs"),
            new JobManager.Limits(config.getInt("evoc.limits.queued-jobs"), config.getInt("evoc.limits.full-feeds"),
                config.getInt("evoc.journal.snapshot-every"), config.getInt("evoc.limits.kept-jobs")),
            unitTimeout, metrics, apiUrl, token), here);
        if (alone) {
          // A cluster of its own: the coordinator will run here; serving starts once it does.
          awaitCoordinator(here);
        }
      }
      out.printf("evoc: serving http://%s:%d (data in %s, cluster port %d)%n", host,
          binding.localAddress().getPort(), dataDir, cluster.selfMember().address().getPort().orElse(0));
      out.flush();
    } catch (RuntimeException | IOException e) {
      close();
      throw e;
    }
  }

  private static void awaitCoordinator(Coordinator.Here here) {
    long deadline = System.nanoTime() + java.time.Duration.ofMinutes(1).toNanos();
    while (here.jobs() == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the coordinator did not start within a minute");
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the coordinator starts", e);
      }
    }
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /**
   * Until the node is stopped (SIGTERM runs Pekko's coordinated shutdown) or the cluster downs it.
   *
   * @return true when the cluster downed it (the split-brain resolver, say, after losing the
   *     coordinator): a node that should rejoin rather than exit
   */
  public boolean awaitTermination() {
    system.getWhenTerminated().toCompletableFuture().join();
    return CoordinatedShutdown.get(system).getShutdownReason()
        .filter(r -> r == CoordinatedShutdown.clusterDowningReason()).isPresent();
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
    blocking.shutdownNow();
  }

  /**
   * The API token: evoc.token (or EVOC_TOKEN), else the one kept in {@code <data-dir>/token}, else
   * a new one, kept there (owner-only) and printed this once.
   */
  private static String token(Config config, Path dataDir, PrintWriter out) throws IOException {
    String configured = config.getString("evoc.token");
    if (!configured.isBlank()) {
      return configured.trim();
    }
    Path file = dataDir.resolve("token");
    if (Files.exists(file)) {
      String kept = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (!kept.isEmpty()) {
        return kept;
      }
    }
    byte[] bytes = new byte[24];
    new SecureRandom().nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    // Owner-only from its first byte (a temporary file is created so on POSIX), and whole when it
    // appears under its name.
    Path tmp = Files.createTempFile(dataDir, ".token", ".tmp");
    Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    out.println("evoc: generated API token (kept in " + file + "): " + token);
    return token;
  }
}
