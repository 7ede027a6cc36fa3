package dev.mspx.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.core.Checkpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line a user starts (what {@code ./mspx train --spark local[2]} and {@code spark-submit
 * --class dev.mspx.spark.SparkMain} run): train, resume, evaluate and sample in local mode, and the
 * one-line refusals of bad input. Also: Spark runs on this JDK (25) with the flags of the parent pom.
 */
class SparkMainTest {

  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = SparkMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void trainResumeEvaluateAndSampleOnLocalSpark() throws Exception {
    assertTrue(Runtime.version().feature() >= 25, "the JDK the project runs on: " + Runtime.version());
    Path data = LocalSpark.data(dir, 40, 10);
    Path out = dir.resolve("run");
    String[] train = {"train", "--spark", "local[2]", "--config", "spark-tiny28", "--data", data.toString(), "--out", out.toString(),
        "--batch", "8", "--replicas", "2", "--threads", "1", "--log-every", "2", "--steps", "4", "--cache", dir.resolve("cache").toString()};
    Run first = run(train);
    assertEquals(0, first.code(), first.err());
    assertTrue(first.out().contains("2 replicas of batch 4 (global 8), ring collective"), first.out());
    assertTrue(first.out().contains("step 4  loss "), first.out());
    assertTrue(first.out().contains("trained to step 4"), first.out());
    Path checkpoint = out.resolve("checkpoint.arrow");
    assertEquals(4, Checkpoint.read(checkpoint).step());

    Run again = run(train);
    assertEquals(1, again.code());
    assertTrue(again.err().startsWith("mspx: " + checkpoint + " exists: pass --resume"), again.err());

    String[] resume = train.clone();
    resume[resume.length - 3] = "6";
    Run resumed = run(java.util.stream.Stream.concat(java.util.Arrays.stream(resume), java.util.stream.Stream.of("--resume", "--collective", "aggregate"))
        .toArray(String[]::new));
    assertEquals(0, resumed.code(), resumed.err());
    assertEquals(6, Checkpoint.read(checkpoint).step());

    Run eval = run("eval", "--spark", "local[2]", "--checkpoint", checkpoint.toString(), "--data", data.toString(), "--batch", "4", "--threads", "1");
    assertEquals(0, eval.code(), eval.err());
    assertTrue(eval.out().matches("(?s)bits/dim: \\d+\\.\\d{4} \\(10 images\\)\\s*"), eval.out());

    Path samples = dir.resolve("samples");
    Run sample = run("sample", "--spark", "local[2]", "--checkpoint", checkpoint.toString(), "--count", "3", "--seed", "40", "--out", samples.toString());
    assertEquals(0, sample.code(), sample.err());
    for (int seed = 40; seed < 43; seed++) {
      assertTrue(Files.isRegularFile(samples.resolve("sample-" + seed + ".png")), "sample-" + seed + ".png");
    }
  }

  @Test
  void badInputIsOneLine() {
    Run odd = run("train", "--spark", "local[2]", "--config", "spark-tiny28", "--data", "x", "--out", dir.toString(), "--steps", "1",
        "--batch", "6", "--replicas", "4");
    assertEquals(1, odd.code());
    assertTrue(odd.err().startsWith("mspx: "), odd.err());
    Run noMaster = run("eval", "--checkpoint", dir.resolve("none.arrow").toString());
    assertEquals(1, noMaster.code());
    assertTrue(noMaster.err().startsWith("mspx: no checkpoint at"), noMaster.err());
    Run perSubpixel = run("eval", "--spark", "local[1]", "--checkpoint", "c.arrow", "--per-subpixel", "x.csv");
    assertEquals(1, perSubpixel.code());
    assertTrue(perSubpixel.err().contains("run mspx eval without --spark"), perSubpixel.err());
    Run collective = run("train", "--spark", "local[1]", "--config", "spark-tiny28", "--out", dir.toString(), "--steps", "1", "--collective", "gossip",
        "--data", "x");
    assertEquals(1, collective.code());
  }
}
