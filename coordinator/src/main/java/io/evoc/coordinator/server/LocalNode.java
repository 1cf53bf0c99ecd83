package io.evoc.coordinator.server;

import io.evoc.coordinator.client.ServerClient;
import io.evoc.evaluator.engine.Numerics;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code evoc serve} in a JVM of its own on this machine, on loopback, with the classpath of
 * the JVM that starts it: what the scaling benchmark and the cluster tests start, kill and
 * restart. Its output goes to {@code <data-dir>/node.log}.
 */
public final class LocalNode implements AutoCloseable {
  public final int httpPort;
  public final int clusterPort;
  public final Path dataDir;
  private final List<String> args;
  private final List<String> jvmArgs;
  private final Map<String, String> env;
  private Process process;

  public LocalNode(Path dataDir, List<String> args) throws IOException {
    this(dataDir, args, List.of(), Map.of());
  }

  /**
   * @param args flags of {@code evoc serve} after the port, data directory and token ones
   * @param jvmArgs before the main class: config overrides as -Dkey=value
   * @param env added to this JVM's environment
   */
  public LocalNode(Path dataDir, List<String> args, List<String> jvmArgs, Map<String, String> env) throws IOException {
    this.httpPort = freePort();
    this.clusterPort = freePort();
    this.dataDir = dataDir;
    this.args = args;
    this.jvmArgs = jvmArgs;
    this.env = env;
  }

  /**
   * JVM flags that hold a node's compute to {@code n} threads: libtorch's, and the host-side delta
   * updates', which run on the calling thread plus the common pool's workers (n - 1 of them; with
   * none the caller does it all); and the garbage collector's pauses, which otherwise stop the
   * world on every core.
   */
  public static List<String> threadLimit(int n) {
    return List.of("-Dai.djl.pytorch.num_threads=" + n, "-Dai.djl.pytorch.num_interop_threads=1",
        "-Djava.util.concurrent.ForkJoinPool.common.parallelism=" + (n - 1), "-XX:ParallelGCThreads=" + n);
  }

  /** The environment that goes with {@link #threadLimit}: OpenMP and MKL read theirs at load. */
  public static Map<String, String> threadLimitEnv(int n) {
    return Map.of("OMP_NUM_THREADS", Integer.toString(n), "MKL_NUM_THREADS", Integer.toString(n));
  }

  public LocalNode start(String token) throws IOException {
    Files.createDirectories(dataDir);
    List<String> cmd = evocCommand("2g", jvmArgs, List.of("serve", "--port", Integer.toString(httpPort),
        "--cluster-port", Integer.toString(clusterPort), "--data-dir", dataDir.toString(), "--token", token));
    cmd.addAll(args);
    ProcessBuilder builder = evocProcess(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("node.log").toFile()));
    builder.environment().putAll(env);
    process = builder.start();
    return this;
  }

  /**
   * {@code evoc ARGS} in a new JVM with this one's java and classpath, offline as the launcher runs it,
   * with the flags of the environment variable {@code EVOC_NODE_JAVA_OPTS} (e.g. a flight recording,
   * to profile the benchmark's JVMs).
   *
   * @param heap -Xmx's value
   * @param jvmArgs before the main class
   */
  public static List<String> evocCommand(String heap, List<String> jvmArgs, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx" + heap, "-Dai.djl.offline=true"));
    String extra = System.getenv().getOrDefault("EVOC_NODE_JAVA_OPTS", "").strip();
    if (!extra.isEmpty()) {
      cmd.addAll(List.of(extra.split("\\s+")));
    }
    cmd.addAll(jvmArgs);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.evoc.coordinator.cli.EvocCommand"));
    cmd.addAll(args);
    return cmd;
  }

  /**
   * A process for {@link #evocCommand}'s command line, its arithmetic pinned as the launcher pins
   * it ({@link Numerics}) where this JVM's environment does not say otherwise.
   */
  public static ProcessBuilder evocProcess(List<String> cmd) {
    ProcessBuilder builder = new ProcessBuilder(cmd);
    Numerics.PINNED.forEach(builder.environment()::putIfAbsent);
    return builder;
  }

  /**
   * Starts a cluster: the seed node first, then the others together; returns once all are ready.
   */
  public static void startCluster(String token, Duration timeout, LocalNode seed, LocalNode... others)
      throws IOException, InterruptedException {
    seed.start(token).awaitReady(timeout);
    for (LocalNode n : others) {
      n.start(token);
    }
    for (LocalNode n : others) {
      n.awaitReady(timeout);
    }
  }

  /** SIGKILL: no shutdown hook, no goodbye to the cluster. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  public String log() throws IOException {
    return Files.readString(dataDir.resolve("node.log"));
  }

  /** Waits for /ready; fails with the node's log when it exits or the time runs out. */
  public LocalNode awaitReady(Duration timeout) throws IOException, InterruptedException {
    ServerClient client = new ServerClient("http://127.0.0.1:" + httpPort, null);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("node on " + httpPort + " exited: " + log());
      }
      try {
        if (client.get("/ready").status() == 200) {
          return this;
        }
      } catch (RuntimeException notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("node on " + httpPort + " not ready after " + timeout + ": " + log());
      }
      Thread.sleep(300);
    }
  }

  /** SIGTERM (Pekko's coordinated shutdown), SIGKILL after 20 s. */
  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }

  private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A port free now on loopback, below Linux's ephemeral range (32768 and up), and not handed out
   * before by this JVM. An ephemeral one (what binding port 0 gives) can be taken, before its node
   * binds it, by an outgoing connection of a node already running: the cluster tests saw that.
   */
  public static int freePort() throws IOException {
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = 20000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(12000);
      if (!HANDED_OUT.add(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        return port;
      } catch (IOException inUse) {
        // another one
      }
    }
    throw new IOException("no free port between 20000 and 32000 on 127.0.0.1");
  }
}
