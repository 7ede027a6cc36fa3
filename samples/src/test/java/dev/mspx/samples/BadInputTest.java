package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad input of issue 12, each refused with one line that names the input and says what to do,
 * the exit code that says whose fault it is (2: the command line, 1: the world), and nothing written
 * or deleted. A few tiny trained checkpoints are made once per test in a temporary folder.
 */
class BadInputTest {

  @TempDir Path dir;
  private Path data;
  private String cache;

  @BeforeEach
  void data() throws IOException {
    data = Cli.fashionLike(dir, 8, 4);
    cache = dir.resolve("cache").toString();
  }

  /** One line on stderr starting {@code mspx: }, containing every fragment; nothing on stdout. */
  private static void oneLine(Cli r, int code, String... fragments) {
    assertEquals(code, r.code(), r.all());
    String err = r.err().strip();
    assertEquals(1, err.lines().count(), "one line: " + r.err());
    assertTrue(err.startsWith("mspx: "), err);
    for (String f : fragments) {
      assertTrue(err.contains(f), "'" + f + "' in: " + err);
    }
  }

  private String[] train(Path out, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("train", "--config", "fashion28", "--data", data.toString(), "--cache", cache,
        "--batch", "4", "--backend", "cpu", "--out", out.toString()));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  private Path trained(String config) {
    Path out = dir.resolve("run-" + config);
    Cli.ok("train", "--config", config, "--data", data.toString(), "--cache", cache, "--batch", "4", "--backend", "cpu",
        "--steps", "1", "--out", out.toString());
    return out.resolve("checkpoint.arrow");
  }

  private static List<Path> listing(Path folder) throws IOException {
    try (Stream<Path> s = Files.walk(folder)) {
      return s.sorted().toList();
    }
  }

  // ------------------------------------------------------------------ nonsense accepted before

  @Test
  void stepsZeroOrNegativeAndMinutesNegativeAreUsageErrorsThatWriteNothing() {
    Path out = dir.resolve("never");
    oneLine(Cli.run(train(out, "--steps", "0")), Main.USAGE, "--steps must be at least 1, got 0", "--help");
    oneLine(Cli.run(train(out, "--steps", "-5")), Main.USAGE, "--steps must be at least 1, got -5");
    oneLine(Cli.run(train(out, "--minutes", "-1")), Main.USAGE, "--minutes must be a number above 0, got -1.0");
    oneLine(Cli.run(train(out, "--minutes", "0")), Main.USAGE, "--minutes");
    assertFalse(Files.exists(out), "nothing is written for a refused run");
  }

  @Test
  void logEveryZeroIsRefusedBeforeTraining() {
    Path out = dir.resolve("never");
    oneLine(Cli.run(train(out, "--steps", "3", "--log-every", "0")), Main.USAGE, "--log-every must be at least 1, got 0");
    oneLine(Cli.run("train", "--config", "fashion28", "--data", data.toString(), "--steps", "3", "--batch", "0", "--out", out.toString()),
        Main.USAGE, "--batch must be at least 1, got 0");
    oneLine(Cli.run(train(out, "--steps", "3", "--save-every", "0")), Main.USAGE, "--save-every");
    assertFalse(Files.exists(out));
  }

  @Test
  void evalLimitZeroOrNegativeIsRefused() {
    Path checkpoint = trained("fashion28");
    oneLine(Cli.run("eval", "--checkpoint", checkpoint.toString(), "--data", data.toString(), "--cache", cache, "--limit", "0"),
        Main.USAGE, "--limit must be at least 1, got 0");
    oneLine(Cli.run("eval", "--checkpoint", checkpoint.toString(), "--data", data.toString(), "--cache", cache, "--limit", "-5"),
        Main.USAGE, "--limit must be at least 1, got -5");
  }

  @Test
  void labelForAnUnlabelledModelIsRefusedAndNothingIsWritten() {
    Path checkpoint = trained("fashion28");
    Path png = dir.resolve("labelled.png");
    oneLine(Cli.run("sample", "--checkpoint", checkpoint.toString(), "--label", "3", "--count", "1", "--backend", "cpu", "--out", png.toString()),
        Main.FAILURE, "--label 3", "unconditional", "drop --label");
    assertFalse(Files.exists(png));
  }

  @Test
  void countZeroSaysCountNotBatch() {
    Path checkpoint = trained("fashion28");
    oneLine(Cli.run("sample", "--checkpoint", checkpoint.toString(), "--count", "0", "--out", dir.resolve("x.png").toString()),
        Main.USAGE, "--count must be at least 1, got 0");
  }

  @Test
  void outputsAreWrittenInTheFormatTheirExtensionSays() throws IOException {
    Path checkpoint = trained("fashion28");
    Path jpg = dir.resolve("s.jpg"), bmp = dir.resolve("s.bmp");
    Cli.ok("sample", "--checkpoint", checkpoint.toString(), "--count", "1", "--backend", "cpu", "--out", jpg.toString());
    Cli.ok("sample", "--checkpoint", checkpoint.toString(), "--count", "1", "--backend", "cpu", "--out", bmp.toString());
    byte[] j = Files.readAllBytes(jpg), b = Files.readAllBytes(bmp);
    assertEquals((byte) 0xFF, j[0]);
    assertEquals((byte) 0xD8, j[1], "JPEG bytes in a .jpg");
    assertEquals('B', b[0]);
    assertEquals('M', b[1], "BMP bytes in a .bmp");
    Path webp = dir.resolve("s.webp");
    oneLine(Cli.run("sample", "--checkpoint", checkpoint.toString(), "--count", "1", "--out", webp.toString()), Main.USAGE,
        ".webp is not an image format mspx writes", ".png");
    oneLine(Cli.run("sample", "--checkpoint", checkpoint.toString(), "--count", "1", "--out", dir.resolve("noextension").toString()), Main.USAGE,
        "no extension");
    assertFalse(Files.exists(webp));
  }

  @Test
  void sampleOutNamingAFolderKeepsTheFolderAndDrawsNothing() throws IOException {
    Path checkpoint = trained("fashion28");
    Path empty = Files.createDirectories(dir.resolve("empty.png"));
    Cli r = Cli.run("sample", "--checkpoint", checkpoint.toString(), "--count", "1", "--backend", "cpu", "--out", empty.toString());
    oneLine(r, Main.FAILURE, "is a folder", "give a file name in it");
    assertTrue(Files.isDirectory(empty), "the empty folder is still there");
    Path full = Files.createDirectories(dir.resolve("full"));
    Files.writeString(full.resolve("keep.txt"), "mine");
    r = Cli.run("sample", "--checkpoint", checkpoint.toString(), "--count", "1", "--backend", "cpu", "--out", full.toString());
    oneLine(r, Main.FAILURE, "is a folder");
    assertFalse(r.out().contains("images"), "nothing was drawn: " + r.out());
    assertEquals("mine", Files.readString(full.resolve("keep.txt")));
  }

  @Test
  void outDirWritesOneFilePerImageAndRefusesToOverwrite() throws IOException {
    Path checkpoint = trained("fashion28");
    Path each = dir.resolve("each");
    String out = Cli.ok("sample", "--checkpoint", checkpoint.toString(), "--count", "3", "--backend", "cpu", "--out-dir", each.toString());
    assertTrue(out.contains("3 files sample-0000.png … sample-0002.png"), out);
    BufferedImage one = ImageIO.read(each.resolve("sample-0001.png").toFile());
    assertEquals(28, one.getWidth(), "one file per image, at its own size by default");
    byte[] before = Files.readAllBytes(each.resolve("sample-0000.png"));
    oneLine(Cli.run("sample", "--checkpoint", checkpoint.toString(), "--count", "3", "--seed", "9", "--out-dir", each.toString()),
        Main.FAILURE, "already has sample-0000.png");
    assertArrayEquals(before, Files.readAllBytes(each.resolve("sample-0000.png")));
  }

  // ------------------------------------------------------------------ work lost before

  @Test
  void outThatIsAFileOrUnderAFileIsRefusedBeforeAnyWork() throws IOException {
    Path file = Files.writeString(dir.resolve("a-file"), "not a folder");
    oneLine(Cli.run(train(file, "--steps", "1")), Main.FAILURE, "--out " + file + " is a file");
    oneLine(Cli.run(train(file.resolve("run"), "--steps", "1")), Main.FAILURE, file + " is a file, not a folder");
    assertEquals("not a folder", Files.readString(file));
  }

  @Test
  void anExistingRunIsNotOverwrittenAndResumeNeedsOne() {
    Path checkpoint = trained("fashion28");
    Path out = checkpoint.getParent();
    oneLine(Cli.run(train(out, "--steps", "1")), Main.FAILURE, "exists: pass --resume");
    Path fresh = dir.resolve("fresh");
    oneLine(Cli.run(train(fresh, "--steps", "1", "--resume")), Main.FAILURE, "holds no checkpoint.arrow to continue");
    assertFalse(Files.exists(fresh));
  }

  @Test
  void aRunFolderHeldByALiveRunIsRefused() throws IOException {
    Path out = dir.resolve("busy");
    try (RunFolder held = RunFolder.claim(out, new PrintWriter(new StringWriter()))) {
      List<Path> before = listing(out);
      oneLine(Cli.run(train(out, "--steps", "1")), Main.FAILURE, "is in use by another mspx train", "process " + ProcessHandle.current().pid());
      assertEquals(before, listing(out), "the second run wrote nothing");
    }
    assertFalse(Files.exists(out), "released: the lock file and the folder it made are gone");
  }

  @Test
  void aStaleLockIsTakenOverAndKilledSavesAreRemoved() throws IOException {
    Path out = Files.createDirectories(dir.resolve("stale"));
    Files.writeString(out.resolve(RunFolder.LOCK), "pid=2147483000\nstarted=2020-01-01T00:00:00Z\n");
    Path killedSave = Files.write(out.resolve(".checkpoint.arrow.8812345678901.tmp"), new byte[1000]);
    Path notOurs = Files.writeString(out.resolve(".checkpoint.arrow.backup.tmp"), "keep");
    Path alsoNotOurs = Files.writeString(out.resolve("notes.tmp"), "keep");
    Cli r = Cli.run(train(out, "--steps", "1"));
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("taking over the lock of process 2147483000"), r.out());
    assertTrue(r.out().contains("removed " + killedSave), r.out());
    assertFalse(Files.exists(killedSave));
    assertTrue(Files.exists(notOurs) && Files.exists(alsoNotOurs), "only our own temporary names are removed");
    assertFalse(Files.exists(out.resolve(RunFolder.LOCK)), "the lock is released at the end");
    assertTrue(Files.exists(out.resolve("checkpoint.arrow")) && Files.exists(out.resolve("log.csv")) && Files.exists(out.resolve("log.png")));
  }

  // ------------------------------------------------------------------ stack traces before

  @Test
  void aBatchWhoseArenaCannotFitIsRefusedBeforeAllocating() {
    Path checkpoint = trained("fashion28");
    Cli r = Cli.run("eval", "--checkpoint", checkpoint.toString(), "--data", data.toString(), "--cache", cache, "--batch", "2000000000");
    // The batch is cut to the images there are (4): it fits. A real overflow needs the images too,
    // so ask the arithmetic directly: 10 million 28x28 images of fashion28.
    assertEquals(0, r.code(), r.all());
    var plan = dev.mspx.core.ModelCatalog.load().plan("fashion28");
    long bytes = plan.inferenceArena().bytes(10_000_000);
    assertTrue(bytes > Integer.MAX_VALUE);
    UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, () -> Arenas.check(bytes, "--batch 10000000", "eval"));
    assertTrue(e.getMessage().contains("--batch 10000000 needs a") && e.getMessage().contains("give a smaller batch"), e.getMessage());
  }

  // ------------------------------------------------------------------ exit codes and noise

  @Test
  void exitCodesAreZeroOneAndTwo() {
    assertEquals(Main.OK, Cli.run("describe", "--list").code());
    Cli missing = Cli.run("eval", "--checkpoint", dir.resolve("none.arrow").toString());
    oneLine(missing, Main.FAILURE, "no checkpoint at " + dir.resolve("none.arrow"));
    oneLine(Cli.run("eval"), Main.USAGE, "Missing required option: '--checkpoint=<checkpoint>'", "mspx eval --help");
    oneLine(Cli.run("bogus"), Main.USAGE, "Unmatched argument");
    oneLine(Cli.run("sample", "--checkpoint", "x", "--count", "many", "--out", "x.png"), Main.USAGE, "Invalid value for option '--count'");
  }

  @Test
  void theBackendParagraphOnlyWithVerboseOrAnExplicitCudnn() throws IOException {
    Path checkpoint = trained("fashion28");
    java.io.PrintStream saved = System.err;
    java.io.ByteArrayOutputStream quiet = new java.io.ByteArrayOutputStream(), loud = new java.io.ByteArrayOutputStream();
    try {
      System.setErr(new java.io.PrintStream(quiet, true));
      Cli.ok("eval", "--checkpoint", checkpoint.toString(), "--data", data.toString(), "--cache", cache, "--backend", "auto");
      System.setErr(new java.io.PrintStream(loud, true));
      Cli.ok("-v", "eval", "--checkpoint", checkpoint.toString(), "--data", data.toString(), "--cache", cache, "--backend", "auto");
    } finally {
      System.setErr(saved);
    }
    assertFalse(quiet.toString().contains("cudnn"), "without --verbose: " + quiet);
    assertTrue(loud.toString().contains("mspx: backend auto: chose "), "with --verbose: " + loud);
  }
}
