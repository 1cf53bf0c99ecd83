package io.evoc.coordinator.cli;

import io.evoc.coordinator.client.ServerClient;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The jobs on a server, from the command line: what `curl` against the API would do, with its errors on one line. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
    description = "Lists, shows, follows, cancels and fetches the jobs on an evoc server.",
    subcommands = {JobsCommand.ListJobs.class, JobsCommand.Show.class, JobsCommand.Follow.class,
        JobsCommand.Cancel.class, JobsCommand.Fetch.class})
final class JobsCommand implements Runnable {
  @Spec CommandLine.Model.CommandSpec spec;

  /** Inherited: given before or after the subcommand's name, it lands here. */
  @Mixin ServerOptions server;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: list, show, follow, cancel or fetch");
  }

  /** The job's view; a job the server does not have is an error naming it. */
  static Map<String, Object> view(ServerClient client, String id) {
    ServerClient.Response r = client.get("/api/v1/jobs/" + id);
    if (r.status() != 200) {
      throw JobFollower.refused(id, r);
    }
    return r.json();
  }

  /** A subcommand: the server its parent command was given. */
  abstract static class OnServer implements Callable<Integer> {
    @CommandLine.ParentCommand JobsCommand jobs;

    ServerOptions server() {
      return jobs.server;
    }
  }

  /** A subcommand about one job: the server, the job's id, and where to print. */
  abstract static class OneJob extends OnServer {
    @Parameters(paramLabel = "ID")
    String id;

    @Spec CommandLine.Model.CommandSpec spec;
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "One line per job: id, state, phase, the search's latest sparsity and divergence, when submitted.")
  static final class ListJobs extends OnServer {
    @Option(names = "--json", description = "The server's answer as it is, one JSON object.")
    boolean json;

    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() {
      ServerClient.Response r = server().client().get("/api/v1/jobs");
      if (r.status() != 200) {
        throw new IllegalArgumentException(server().url + ": " + r.error() + " (" + r.status() + ")");
      }
      if (json) {
        spec.commandLine().getOut().println(r.text());
        return 0;
      }
      if (!(r.json().get("jobs") instanceof List<?> jobs)) {
        throw new IllegalArgumentException(server().url + " answered with no job list: is it an evoc server?");
      }
      var out = spec.commandLine().getOut();
      String row = "%-8s %-10s %-12s %9s %11s  %s%n";
      out.printf(row, "ID", "STATE", "PHASE", "SPARSITY", "DIVERGENCE", "SUBMITTED");
      for (Map<String, Object> job : (List<Map<String, Object>>) jobs) {
        Map<String, Object> progress = (Map<String, Object>) job.get("progress");
        out.printf(row, job.get("id"), job.get("state"), job.get("phase") == null ? "-" : job.get("phase"),
            progress == null ? "-" : String.format("%.1f%%", 100 * ((Number) progress.get("sparsity")).doubleValue()),
            progress == null ? "-" : String.format("%.5f", ((Number) progress.get("divergence")).doubleValue()),
            Instant.ofEpochMilli(((Number) job.get("submitted_ms")).longValue()).truncatedTo(ChronoUnit.SECONDS));
      }
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "A job's view as JSON (the API's GET /api/v1/jobs/ID).")
  static final class Show extends OneJob {
    @Override
    public Integer call() {
      spec.commandLine().getOut().println(Json.pretty(view(server().client(), id)));
      return 0;
    }
  }

  @Command(name = "follow", mixinStandardHelpOptions = true,
      description = "A job's progress until it ends, then its artifact downloaded (as submit --follow).")
  static final class Follow extends OneJob {
    @Option(names = "--out", paramLabel = "M.evoc", description = "Where the artifact goes (default: ID.evoc).")
    Path out;

    @Override
    public Integer call() throws Exception {
      Path target = JobFollower.target(out, id, ".evoc", Map.of());
      ServerClient client = server().client();
      double goal = JobFollower.goal((Map<?, ?>) view(client, id).get("settings"));
      return JobFollower.download(client, id, JobFollower.follow(client, id, goal), target, spec.commandLine().getErr());
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = "Cancels a job: a queued one at once, a running one at its next generation.")
  static final class Cancel extends OneJob {
    @Override
    public Integer call() {
      ServerClient.Response r = server().client().delete("/api/v1/jobs/" + id);
      if (r.status() != 202) {
        throw JobFollower.refused(id, r);
      }
      String state = String.valueOf(r.json().get("state"));
      spec.commandLine().getOut().println(id + switch (state) {
        case "cancelled" -> " cancelled";
        case "succeeded", "failed" -> " had already " + state + ": nothing to cancel";
        default -> " cancelling (" + state + "; a search stops at its next generation)";
      });
      return 0;
    }
  }

  @Command(name = "fetch", mixinStandardHelpOptions = true, description = "Downloads one of a finished job's outputs.")
  static final class Fetch extends OneJob {
    /** Each output: its path under the job in the API, and the default file's extension. */
    enum Output {
      artifact("artifact", ".evoc"), model("model.onnx", ".onnx"), report("report", ".json");

      final String path;
      final String extension;

      Output(String path, String extension) {
        this.path = path;
        this.extension = extension;
      }
    }

    @Option(names = "--what", defaultValue = "artifact", paramLabel = "OUTPUT",
        description = "artifact (the .evoc container), model (the decompressed ONNX model) or report (JSON);"
            + " default ${DEFAULT-VALUE}.")
    Output what;

    @Option(names = "--out", paramLabel = "FILE", description = "Where it goes (default: ID.evoc, ID.onnx or ID.json).")
    Path out;

    @Override
    public Integer call() {
      Path target = JobFollower.fetch(server().client(), id, what.path, JobFollower.target(out, id, what.extension,
          Map.of()));
      spec.commandLine().getErr().println("job " + id + ": " + what + " -> " + target);
      return 0;
    }
  }
}
