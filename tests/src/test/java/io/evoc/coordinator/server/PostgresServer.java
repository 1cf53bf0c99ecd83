package io.evoc.coordinator.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A private PostgreSQL server for one test: initdb into a fresh directory, the server on a free
 * loopback port, stopped and deleted at close. The binaries come from Debian's postgresql package
 * (ops/install-debian.sh installs it). Run as root, it runs as the postgres user, which the server
 * insists on.
 */
final class PostgresServer implements AutoCloseable {
  final int port;
  private final Path dir;
  private final Path bin;
  private final boolean root;
  private final Process process;

  PostgresServer() throws Exception {
    bin = binaries();
    // Under /tmp itself: the postgres user must reach it, and a test's own temporary directory is root's alone.
    dir = Files.createTempDirectory("evoc-pg");
    port = LocalNode.freePort();
    root = "root".equals(System.getProperty("user.name"));
    if (root) {
      run(List.of("chown", "-R", "postgres:postgres", dir.toString()));
    }
    run(as(root, List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-A", "trust", "-U",
        "evoc", "--no-sync")));
    process = new ProcessBuilder(as(root, List.of(bin.resolve("postgres").toString(), "-D",
        dir.resolve("data").toString(), "-p", Integer.toString(port), "-k", dir.toString(), "-c",
        "listen_addresses=127.0.0.1", "-c", "fsync=off"))).redirectErrorStream(true)
        .redirectOutput(dir.resolve("postgres.log").toFile()).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try (Connection c = DriverManager.getConnection(url("postgres"), "evoc", "")) {
        c.createStatement().execute("CREATE DATABASE evoc");
        return;
      } catch (SQLException notYet) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("PostgreSQL did not start: " + Files.readString(dir.resolve("postgres.log")),
              notYet);
        }
        Thread.sleep(200);
      }
    }
  }

  String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** The config overrides that put a node's journal here. */
  List<String> journalSettings() {
    String prefix = "-Dpekko-persistence-jdbc.shared-databases.evoc.";
    return List.of(prefix + "profile=slick.jdbc.PostgresProfile$", prefix + "db.url=" + url("evoc"),
        prefix + "db.user=evoc", prefix + "db.password=", prefix + "db.driver=org.postgresql.Driver");
  }

  @Override
  public void close() throws Exception {
    // pg_ctl returns once the server and all its processes are gone; a signal to runuser would not wait.
    try {
      run(as(root, List.of(bin.resolve("pg_ctl").toString(), "stop", "-D", dir.resolve("data").toString(), "-m",
          "fast", "-w", "-t", "60")));
    } catch (IllegalStateException alreadyStopped) {
      // nothing left to stop
    }
    process.destroy();
    process.waitFor();
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | java.io.UncheckedIOException leftOver) {
      // Only a directory under /tmp left behind: not the test's outcome.
    }
  }

  private static Path binaries() throws IOException {
    try (var versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("postgres"))).findFirst()
          .orElseThrow(() -> new IllegalStateException("no PostgreSQL server: run ops/install-debian.sh"));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalStateException("no PostgreSQL server (Debian package postgresql): run ops/install-debian.sh", e);
    }
  }

  private static List<String> as(boolean root, List<String> cmd) {
    if (!root) {
      return cmd;
    }
    List<String> out = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    out.addAll(cmd);
    return out;
  }

  private void run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
