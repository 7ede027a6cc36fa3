package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --spark} hands the command line to the distributed module; this module's tests run without it
 * on the class path (as a plain {@code java -cp} of the samples jar would), so each command says how to
 * get it, in one line, and does nothing else.
 */
class SparkOptionTest {

  @TempDir Path dir;

  @Test
  void withoutTheDistributedModuleSparkSaysHowToGetIt() {
    String[][] commands = {
      {"train", "--spark", "local[2]", "--config", "fashion28", "--steps", "1", "--out", dir.resolve("run").toString()},
      {"eval", "--spark", "local[2]", "--checkpoint", dir.resolve("none.arrow").toString()},
      {"sample", "--spark", "local[2]", "--checkpoint", dir.resolve("none.arrow").toString(), "--out", dir.resolve("s").toString()},
    };
    for (String[] args : commands) {
      StringWriter out = new StringWriter(), err = new StringWriter();
      int code = Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
      assertEquals(1, code, args[0] + ": " + out + err);
      assertTrue(err.toString().startsWith("mspx: --spark needs the distributed module and Apache Spark on the class path: run through ./mspx"),
          args[0] + ": " + err);
      assertEquals("", out.toString(), args[0] + " did nothing else");
    }
    assertTrue(dir.toFile().list().length == 0, "no output written");
  }
}
