package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InfoCommandTest {

  @Test
  void infoPrintsJdkVectorWidthAndEveryBackend() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));

    int exit = cli.execute("info");

    String text = out.toString();
    assertEquals(0, exit, err.toString());
    assertTrue(text.contains(System.getProperty("java.version")), text);
    assertTrue(text.contains(Runtime.version().toString()), text);
    assertTrue(text.contains("vector"), text);
    assertTrue(text.contains("float lanes"), "surefire runs with the Vector API module: " + text);
    List<String> lines = text.lines().toList();
    assertTrue(
        lines.stream().anyMatch(l -> l.contains("cudnn") && l.contains("unavailable")), text);
    assertTrue(
        lines.stream().anyMatch(l -> l.strip().startsWith("cpu ") && l.contains("available")),
        text);
    assertTrue(text.contains("--backend auto chooses: cpu"), text);
    assertTrue(text.contains("fashion28, fashion28-labelled, fashion28-raster"), "the models on the class path: " + text);
    assertTrue(lines.stream().anyMatch(l -> l.strip().startsWith("reason: ")), "cudnn says why: " + text);
    assertTrue(
        lines.stream().noneMatch(l -> l.startsWith("  missing")),
        "surefire passes every flag of mspx.jvm.flags: " + text);
  }

  @Test
  void withoutACommandItSaysWhatToRun() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setErr(new PrintWriter(err));

    int exit = cli.execute();

    assertEquals(2, exit);
    assertTrue(err.toString().contains("try: mspx info"), err.toString());
  }

  @Test
  void flagsAreNormalisedAsTheJvmReportsThem() {
    assertEquals(
        List.of(
            "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dx=y"),
        BuildInfo.normalise(
            " --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dx=y "));
  }
}
