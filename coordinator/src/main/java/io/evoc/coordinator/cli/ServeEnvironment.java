package io.evoc.coordinator.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every {@code serve} flag from the environment, for containers and unit files: {@code --seed-nodes}
 * is {@code EVOC_SEED_NODES}, {@code --port} {@code EVOC_PORT}, and so on. A flag on the command
 * line wins over its variable; an empty variable counts as unset.
 */
final class ServeEnvironment implements IDefaultValueProvider {
  private final Map<String, String> env;

  ServeEnvironment() {
    this(System.getenv());
  }

  ServeEnvironment(Map<String, String> env) {
    this.env = env;
  }

  /** The variable a flag is read from: {@code --cluster-port} → {@code EVOC_CLUSTER_PORT}. */
  static String variable(String flag) {
    return "EVOC_" + flag.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option) || option.usageHelp() || option.versionHelp()) {
      return null;
    }
    String value = env.get(variable(option.longestName()));
    return value == null || value.isBlank() ? null : value.trim();
  }
}
