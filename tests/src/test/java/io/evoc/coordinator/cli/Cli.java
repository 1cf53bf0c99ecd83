package io.evoc.coordinator.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/** Runs the evoc command line in-process and captures what it prints. */
record Cli(int exitCode, String out, String err) {
  static final Path ROOT = Path.of(System.getProperty("evoc.repo.root", ".."));
  static final String FASHION = "/usr/share/datasets/fashion-mnist";

  static Cli run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = EvocCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Cli(code, out.toString().trim(), err.toString().trim());
  }

  static String path(String relative) {
    return ROOT.resolve(relative).toString();
  }

  @SuppressWarnings("unchecked")
  java.util.Map<String, Object> json() {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readValue(out, java.util.Map.class);
    } catch (java.io.IOException e) {
      throw new AssertionError("stdout is not one JSON object: " + out + "\nstderr: " + err, e);
    }
  }
}
