package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The alert rules and the scrape config pass promtool; every evoc metric they or the dashboard name is exported. */
class DashboardsTest {
  private static final Path DASHBOARDS = Path.of(System.getProperty("evoc.repo.root", "..")).resolve("dashboards");
  private static final Pattern EVOC_METRIC = Pattern.compile("\\bevoc_[a-z_]+");

  @Test
  void rulesAndConfigPassPromtool() throws Exception {
    assertThat(promtool("check", "rules", DASHBOARDS.resolve("alerts.yml").toString())).startsWith("ok");
    assertThat(promtool("check", "config", DASHBOARDS.resolve("prometheus.yml").toString())).startsWith("ok");
  }

  @Test
  void everyMetricNamedIsOneTheServerExports() throws IOException {
    Set<String> named = new TreeSet<>();
    for (String file : new String[] {"alerts.yml", "evoc-cluster.json"}) {
      Matcher m = EVOC_METRIC.matcher(Files.readString(DASHBOARDS.resolve(file)));
      while (m.find()) {
        named.add(m.group().replaceFirst("_(bucket|count|sum)$", ""));
      }
    }
    assertThat(named).as("metrics the dashboards use").hasSizeGreaterThan(5);
    assertThat(ServerMetrics.NAMES).containsAll(named);
  }

  private static String promtool(String... args) throws IOException, InterruptedException {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "promtool";
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError("promtool is not installed: run ops/install-debian.sh (Debian package prometheus)", e);
    }
    String out = new String(p.getInputStream().readAllBytes());
    return p.waitFor() == 0 ? "ok: " + out : "exit " + p.exitValue() + ": " + out;
  }
}
