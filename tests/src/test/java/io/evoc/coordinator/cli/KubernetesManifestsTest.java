package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * ops/k8s against the code it deploys (no Kubernetes here): every container's arguments are
 * flags `evoc serve` takes, every EVOC_ variable is one the config or a serve flag reads, every $(VAR) is defined
 * before its use, probes name declared ports, and the headless service is what Cluster Bootstrap
 * looks up by default.
 */
class KubernetesManifestsTest {
  private static final Path K8S = Path.of(System.getProperty("evoc.repo.root", "..")).resolve("ops/k8s");
  private static final Pattern REFERENCE = Pattern.compile("\\$\\(([A-Z_]+)\\)");

  /** The variables {@link ServeEnvironment} reads: one per flag of {@code evoc serve}. */
  private static final java.util.Set<String> SERVE_VARIABLES = EvocCommand.commandLine().getSubcommands().get("serve")
      .getCommandSpec().options().stream().map(o -> ServeEnvironment.variable(o.longestName()))
      .collect(java.util.stream.Collectors.toSet());

  @Test
  void containersStartServeWithFlagsAndVariablesItKnows() throws IOException {
    String referenceConf = new String(ServeCommand.class.getResourceAsStream("/reference.conf").readAllBytes());
    List<JsonNode> containers = new ArrayList<>();
    for (JsonNode doc : documents()) {
      if (doc.path("kind").asText().matches("StatefulSet|Deployment")) {
        doc.at("/spec/template/spec/containers").forEach(containers::add);
      }
    }
    assertThat(containers).hasSize(2);
    for (JsonNode c : containers) {
      Map<String, String> env = new HashMap<>();
      for (JsonNode e : c.path("env")) {
        String name = e.path("name").asText();
        String value = e.path("value").asText("from-" + name);
        Matcher m = REFERENCE.matcher(value);
        while (m.find()) {
          assertThat(env).as("%s uses $(%s) before it is defined", name, m.group(1)).containsKey(m.group(1));
        }
        if (name.startsWith("EVOC_")) {
          assertThat(referenceConf.contains("${?" + name + "}") || SERVE_VARIABLES.contains(name))
              .as("reference.conf or a flag of evoc serve reads %s", name).isTrue();
        }
        env.put(name, value);
      }
      List<String> args = new ArrayList<>();
      for (JsonNode a : c.path("args")) {
        Matcher m = REFERENCE.matcher(a.asText());
        assertThat(!m.find() || env.containsKey(m.group(1))).as("argument %s", a.asText()).isTrue();
        args.add(REFERENCE.matcher(a.asText()).replaceAll("10.0.0.1"));
      }
      assertThat(args.get(0)).isEqualTo("serve");
      ServeCommand serve = new ServeCommand();
      new CommandLine(serve).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
      if (serve.devices != null && serve.devices.startsWith("gpu")) {
        assertThat(serve.devices).matches("gpu:\\d+(,gpu:\\d+)*");
        serve.devices = "cpu"; // taking a GPU is checked against the devices present: none here
      }
      assertThat(serve.overrides()).containsKeys("evoc.roles", "pekko.remote.artery.canonical.hostname");
      Set<String> ports = new HashSet<>();
      c.path("ports").forEach(p -> ports.add(p.path("name").asText()));
      assertThat(ports).contains("http", "remoting", "management");
      for (String probe : new String[] {"readinessProbe", "livenessProbe"}) {
        assertThat(ports).contains(c.path(probe).at("/httpGet/port").asText());
      }
    }
  }

  @Test
  void theHeadlessServiceIsWhatBootstrapLooksUp() throws IOException {
    Config config = ConfigFactory.load();
    Config discovery = config.getConfig("pekko.management.cluster.bootstrap.contact-point-discovery");
    JsonNode headless = documents().stream().filter(d -> d.at("/spec/clusterIP").asText().equals("None")).findFirst()
        .orElseThrow();
    assertThat(headless.at("/metadata/name").asText()).isEqualTo(discovery.getString("service-name"));
    assertThat(headless.at("/spec/publishNotReadyAddresses").asBoolean()).isTrue();
    JsonNode management = null;
    for (JsonNode p : headless.at("/spec/ports")) {
      management = p.path("name").asText().equals(discovery.getString("port-name")) ? p : management;
    }
    assertThat(management).as("a port named %s", discovery.getString("port-name")).isNotNull();
    assertThat(management.path("port").asInt()).isEqualTo(config.getInt("pekko.management.http.port"));
  }

  @Test
  void kustomizationListsEveryManifest() throws IOException {
    JsonNode k = new ObjectMapper(new YAMLFactory()).readTree(K8S.resolve("kustomization.yaml").toFile());
    Set<String> listed = new HashSet<>();
    k.path("resources").forEach(r -> listed.add(r.asText()));
    try (var files = Files.list(K8S)) {
      assertThat(listed).isEqualTo(files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).collect(java.util.stream.Collectors.toSet()));
    }
  }

  private static List<JsonNode> documents() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    YAMLMapper yaml = new YAMLMapper();
    try (var files = Files.list(K8S)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        try (var parser = yaml.getFactory().createParser(f.toFile())) {
          yaml.readValues(parser, JsonNode.class).forEachRemaining(out::add);
        }
      }
    }
    return out;
  }
}
