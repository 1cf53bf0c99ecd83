package io.evoc.coordinator.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** One `evoc serve` in a JVM of its own, on loopback: what the cluster tests start, kill and restart. */
final class Node implements AutoCloseable {
  final int httpPort;
  final int clusterPort;
  final Path dataDir;
  private final List<String> extra;
  private final List<String> jvmArgs;
  private Process process;

  Node(Path dataDir, List<String> extra) throws IOException {
    this(dataDir, extra, List.of());
  }

  /** @param jvmArgs before the main class: config overrides as -Dkey=value */
  Node(Path dataDir, List<String> extra, List<String> jvmArgs) throws IOException {
    this.httpPort = freePort();
    this.clusterPort = freePort();
    this.dataDir = dataDir;
    this.extra = extra;
    this.jvmArgs = jvmArgs;
  }

  Node start(String token) throws IOException {
    Files.createDirectories(dataDir);
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2g", "-Dai.djl.offline=true"));
    cmd.addAll(jvmArgs);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.evoc.coordinator.cli.EvocCommand", "serve",
        "--port",
        Integer.toString(httpPort), "--cluster-port", Integer.toString(clusterPort), "--data-dir", dataDir.toString(),
        "--token", token));
    cmd.addAll(extra);
    process = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("node.log").toFile())).start();
    return this;
  }

  /** SIGKILL: no shutdown hook, no goodbye to the cluster. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  String log() throws IOException {
    return Files.readString(dataDir.resolve("node.log"));
  }

  /** Waits for /ready. */
  Node awaitReady(Duration timeout) throws Exception {
    Api api = new Api(httpPort, null);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new AssertionError("node on " + httpPort + " exited: " + log());
      }
      try {
        if (api.get("/ready").status() == 200) {
          return this;
        }
      } catch (RuntimeException notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("node on " + httpPort + " not ready after " + timeout + ": " + log());
      }
      Thread.sleep(300);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
        kill();
      }
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
