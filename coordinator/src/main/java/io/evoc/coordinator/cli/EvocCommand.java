package io.evoc.coordinator.cli;

import io.evoc.evaluator.data.DataException;
import io.evoc.evaluator.engine.EngineException;
import io.evoc.evaluator.graph.UnsupportedModelException;
import io.evoc.protocol.model.InvalidModelException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code evoc} command line. Results go to stdout (JSON where a program reads them), messages to stderr. */
@Command(
    name = "evoc",
    mixinStandardHelpOptions = true,
    version = "evoc 0.1.0",
    description = "Compresses trained neural networks by directed evolution.",
    subcommands = {
      TrainCommand.class,
      EvalCommand.class,
      InspectModelCommand.class,
      SparsifyCommand.class,
      CompressCommand.class,
      DecompressCommand.class,
      InspectCommand.class,
      ServeCommand.class,
      SubmitCommand.class,
      JobsCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class EvocCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  public static void main(String[] args) {
    // DJL must never reach the network: libtorch comes from the native jar on the classpath.
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    String unpinned = io.evoc.evaluator.engine.Numerics.warning();
    if (unpinned != null && args.length > 0 && !args[0].startsWith("-") && !args[0].equals("help")) {
      System.err.println(unpinned);
    }
    System.exit(commandLine().execute(args));
  }

  /** The configured command line; tests execute it in-process. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new EvocCommand());
    // A flag picocli cannot take (an unknown one, a value of the wrong type, one missing): one line
    // that names it and where the help is, not the whole usage.
    cli.setParameterExceptionHandler((e, args) -> {
      CommandLine cmd = e.getCommandLine();
      String help = "evoc " + (cmd.getParent() == null ? "" : cmd.getCommandSpec().qualifiedName(" ")
          .replaceFirst("^evoc ", "") + " ") + "--help";
      String suggestions = e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()
          ? "; did you mean " + String.join(" or ", u.getSuggestions()) + "?" : "";
      cmd.getErr().println("evoc: " + e.getMessage().replace('\n', ' ').strip() + suggestions + " (see " + help + ")");
      return 2;
    });
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof java.nio.file.FileSystemException f) { // a file that cannot be read or written
        cmd.getErr().println("evoc: " + (f.getFile() != null ? f.getFile() + ": " + OutputFiles.reason(f)
            : f.getMessage()));
        return 2;
      }
      if (isUserError(e)) {
        cmd.getErr().println("evoc: " + e.getMessage());
        return 2;
      }
      // Anything else is a bug in evoc: keep the trace for the report.
      cmd.getErr().println("evoc: internal error: " + e);
      e.printStackTrace(cmd.getErr());
      return 70;
    });
    return cli;
  }

  /** Bad input named in a one-line message: no stack trace. */
  public static boolean isUserError(Exception e) {
    return e instanceof InvalidModelException
        || e instanceof DataException
        || e instanceof EngineException
        || e instanceof UnsupportedModelException
        || e instanceof IllegalArgumentException
        || e instanceof java.io.UncheckedIOException
        || e instanceof io.evoc.protocol.container.ContainerException;
  }
}
