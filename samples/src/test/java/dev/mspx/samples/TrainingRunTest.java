package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.core.Checkpoint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A training run as a user lives it: the curve beside the checkpoint, the record in the checkpoint,
 * Ctrl-C (the shutdown hook's logic at an exact step, and a real TERM signal to a real process)
 * saving the run and printing the command that continues it, and that command continuing it.
 */
class TrainingRunTest {

  @TempDir Path dir;

  @Test
  void theShutdownHookSavesAtTheStepItStopsAndTheRunContinuesFromThere() throws Exception {
    Path data = Cli.fashionLike(dir, 8, 4);
    Path out = dir.resolve("run");
    CommandLine cli = Main.commandLine();
    TrainCommand train = cli.getSubcommands().get("train").getCommand();
    // At step 2 the hook runs on its own thread, as the JVM runs it on Ctrl-C; the loop goes on only
    // once the hook has asked it to stop, so the stop comes exactly after step 2.
    Thread[] hook = new Thread[1];
    train.afterStep = step -> {
      if (step == 2) {
        hook[0] = new Thread(train.stop::onSignal, "test-hook");
        hook[0].start();
        while (!train.stop.requested()) {
          Thread.onSpinWait();
        }
      }
    };
    Cli r = Cli.run(cli, "train", "--config", "fashion28", "--data", data.toString(), "--cache", dir.resolve("cache").toString(),
        "--batch", "4", "--steps", "50", "--log-every", "1", "--backend", "cpu", "--out", out.toString());
    assertEquals(0, r.code(), r.all());
    hook[0].join(60_000);
    assertFalse(hook[0].isAlive(), "the hook returned once the run had saved");
    assertTrue(train.stop.isFinished());
    assertTrue(r.out().contains("stopped at step 2 after"), r.out());
    String expected = "continue with: ./mspx train --config fashion28 --out " + out + " --resume --steps 50 --data " + data + " --batch 4";
    assertTrue(r.out().contains(expected), r.out());
    assertEquals(2, Checkpoint.read(out.resolve("checkpoint.arrow")).step());
    assertFalse(Files.exists(out.resolve(RunFolder.LOCK)), "lock released");

    // The printed command continues the run (with this test's cache and backend).
    String resumed = Cli.ok("train", "--config", "fashion28", "--out", out.toString(), "--resume", "--steps", "4", "--data", data.toString(),
        "--batch", "4", "--log-every", "1", "--cache", dir.resolve("cache").toString(), "--backend", "cpu");
    assertTrue(resumed.contains("resumed " + out.resolve("checkpoint.arrow") + " at step 2"), resumed);
    List<String> csv = Files.readAllLines(out.resolve("log.csv"));
    assertEquals(TrainingLog.HEADER, csv.get(0));
    List<Long> trainSteps = csv.stream().skip(1).map(TrainingLog.Row::parse).filter(row -> !Double.isNaN(row.train())).map(TrainingLog.Row::step).toList();
    assertEquals(List.of(1L, 2L, 3L, 4L), trainSteps, "one curve across the stop: " + csv);
    assertTrue(csv.stream().skip(1).map(TrainingLog.Row::parse).anyMatch(row -> row.step() == 4 && row.testImages() == 4 && row.test() > 0),
        "held-out bits/dim at the end: " + csv);
    String shown = Cli.ok("checkpoint", "show", out.resolve("checkpoint.arrow").toString());
    assertTrue(shown.contains("step         4"), shown);
    assertTrue(shown.contains("seed         0"), shown);
    assertTrue(shown.contains("data         tiny-train.arrow"), shown);
    assertTrue(shown.matches("(?s).*bits/dim\\s+\\d+\\.\\d{5} on 4 test images at step 4.*"), shown);
  }

  /**
   * A real process, a real signal: {@code mspx train} in its own JVM, sent TERM (what Ctrl-C's SIGINT
   * also triggers: the JVM's shutdown hooks) once it has printed its third step. Waits on its output,
   * not on time.
   */
  @Test
  void aSignalToARealRunSavesItAndSaysHowToContinue() throws Exception {
    Path data = Files.createDirectories(dir.resolve("pocket"));
    java.util.Random random = new java.util.Random(2);
    for (String split : List.of("train", "test")) {
      byte[] images = new byte[8 * 64];
      for (int i = 0; i < images.length; i++) {
        images[i] = (byte) (random.nextInt(3) * 100);
      }
      dev.mspx.core.data.ArrowImageFile.write(data.resolve("pocket-" + split + ".arrow"), 1, 8, 8, images, null, 0, "pocket " + split);
    }
    Path out = dir.resolve("signalled");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(BuildInfo.load().jvmFlags());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.mspx.samples.Main", "train", "--config", "pocket-faces",
        "--data", data.resolve("pocket-train.arrow").toString(), "--cache", dir.resolve("cache").toString(), "--batch", "4",
        "--steps", "1000000", "--log-every", "1", "--eval-every", "0", "--backend", "cpu", "--out", out.toString()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    StringBuilder seen = new StringBuilder();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        seen.append(line).append('\n');
        if (line.startsWith("step 3/")) {
          // SIGTERM, as kill sends it (Process.destroy would also close the output we still read).
          assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).inheritIO().start().waitFor());
          break;
        }
      }
      assertTrue(seen.toString().contains("step 3/"), "the run never got to step 3: " + seen);
      while ((line = lines.readLine()) != null) {
        seen.append(line).append('\n');
      }
    } finally {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    assertEquals(143, p.exitValue(), "killed by TERM after the hooks ran: " + seen);
    String text = seen.toString();
    assertTrue(text.matches("(?s).*stopped at step \\d+ after .*saved .*checkpoint\\.arrow.*"), text);
    assertTrue(text.contains("continue with: ./mspx train --config pocket-faces --out " + out + " --resume --steps 1000000"), text);
    long step = Checkpoint.read(out.resolve("checkpoint.arrow")).step();
    assertTrue(text.contains("stopped at step " + step + " after"), "the checkpoint holds the step it printed: " + step + "\n" + text);
    assertFalse(Files.exists(out.resolve(RunFolder.LOCK)), "lock released before the JVM exits");
  }
}
