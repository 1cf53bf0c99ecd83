package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code serve}'s flags from EVOC_* variables, as a container or a unit file sets them. */
class ServeEnvironmentTest {
  private static ServeCommand parse(Map<String, String> env, String... args) {
    CommandLine cli = new CommandLine(new ServeCommand());
    cli.setDefaultValueProvider(new ServeEnvironment(env));
    cli.parseArgs(args);
    return cli.getCommand();
  }

  @Test
  void variablesStandInForFlagsAndAFlagGivenWins() {
    Map<String, Object> m = parse(Map.of("EVOC_ROLES", "evaluator", "EVOC_SEED_NODES", "10.0.0.1:2551, 10.0.0.2:2551",
        "EVOC_PORT", "9000", "EVOC_DEVICES", "cpu", "EVOC_CLUSTER_PORT", " ", "EVOC_HELP", "true"),
        "--port", "8081").overrides();
    assertThat(m.get("evoc.roles")).isEqualTo(List.of("evaluator"));
    assertThat(m.get("pekko.cluster.seed-nodes")).isEqualTo(List.of("pekko://evoc@10.0.0.1:2551",
        "pekko://evoc@10.0.0.2:2551"));
    assertThat(m.get("evoc.devices")).isEqualTo(List.of("cpu"));
    assertThat(m.get("evoc.http.port")).as("the flag, not EVOC_PORT").isEqualTo(8081);
    assertThat(m).as("a blank variable is unset").doesNotContainKey("pekko.remote.artery.canonical.port");
    assertThat(parse(Map.of()).overrides()).isEmpty();
  }

  @Test
  void aBadValueIsRefusedAsTheFlagsWouldBe() {
    assertThatThrownBy(() -> parse(Map.of("EVOC_SEED_NODES", "nohost")).overrides())
        .hasMessage("--seed-nodes 'nohost': expected HOST:PORT");
    assertThatThrownBy(() -> parse(Map.of("EVOC_PORT", "eighty")))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("eighty");
  }

  @Test
  void theCommandLineReadsTheEnvironment() {
    assertThat(EvocCommand.commandLine().getSubcommands().get("serve").getCommandSpec().defaultValueProvider())
        .isInstanceOf(ServeEnvironment.class);
    assertThat(ServeEnvironment.variable("--cluster-port")).isEqualTo("EVOC_CLUSTER_PORT");
  }
}
