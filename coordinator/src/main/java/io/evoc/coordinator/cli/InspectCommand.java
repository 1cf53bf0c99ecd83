package io.evoc.coordinator.cli;

import io.evoc.protocol.container.Container;
import io.evoc.protocol.container.ContainerFile;
import io.evoc.protocol.container.ContainerSummary;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Prints a .evoc container's summary as JSON: source, settings, chosen point, bytes by part, tensors.")
final class InspectCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "M.evoc")
  Path container;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Container c = ContainerFile.read(container);
    ContainerSummary summary = ContainerSummary.of(c);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("file", container.toString());
    m.put("format_version", c.getFormatVersion());
    m.put("source_sha256", HexFormat.of().formatHex(c.getSourceSha256().toByteArray()));
    m.put("settings", c.getSettingsMap());
    Map<String, Object> chosen = new LinkedHashMap<>();
    chosen.put("bytes", c.getChosen().getBytes());
    chosen.put("divergence", c.getChosen().getDivergence());
    chosen.put("agreement", c.getChosen().getAgreement());
    chosen.put("accuracy_drop", c.getChosen().getAccuracyDrop());
    chosen.put("quantization", c.getChosen().getQuantizationList());
    m.put("chosen", chosen);
    m.put("bytes", summary.bytesByPart());
    m.put("coded_entries", summary.codedEntries());
    m.put("survivors", summary.survivors());
    m.put("tensors", ContainerSummary.tensors(c));
    spec.commandLine().getOut().println(Json.pretty(m));
    return 0;
  }
}
