package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mspx compress} and {@code mspx decompress} on a folder of PNGs: the PNGs come back with their
 * names and every pixel; a corrupt file and an occupied output folder are one-line errors.
 */
class CodecCommandsTest {

  @TempDir Path dir;

  private record Result(int code, String out, String err) {}

  private Result run(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  /** Five 8×8 grey PNGs (pocket-faces' shape) with structure and noise. */
  private Path pngs() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("in"));
    Random r = new Random(4);
    for (int i = 0; i < 5; i++) {
      BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
          img.getRaster().setSample(x, y, 0, i % 2 == 0 ? r.nextInt(256) : (x + y) * 16);
        }
      }
      ImageIO.write(img, "png", folder.resolve("face " + i + ".png").toFile());
    }
    return folder;
  }

  private Path checkpoint() {
    Path checkpoint = dir.resolve("pocket.arrow");
    try (Model model = Model.create("pocket-faces", BackendModule.select("cpu"), 9)) {
      model.save(checkpoint);
    }
    return checkpoint;
  }

  @Test
  void aFolderComesBackBitForBit() throws IOException {
    Path in = pngs(), ck = checkpoint(), file = dir.resolve("faces.mspxz"), back = dir.resolve("back");
    Result c = run("compress", "--checkpoint", ck.toString(), "--in", in.toString(), "--out", file.toString(), "--batch", "2", "--backend", "cpu");
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().startsWith("compressed 5 images from " + in + " into " + file + ": "), c.out());
    Result d = run("decompress", "--checkpoint", ck.toString(), "--in", file.toString(), "--out", back.toString(), "--backend", "cpu");
    assertEquals(0, d.code(), d.err());
    assertTrue(d.out().startsWith("decompressed 5 images (5 images 1x8x8 (256 levels) of model pocket-faces"), d.out());
    for (int i = 0; i < 5; i++) {
      String name = "face " + i + ".png";
      assertArrayEquals(pixels(in.resolve(name)), pixels(back.resolve(name)), name);
    }
    Result again = run("decompress", "--checkpoint", ck.toString(), "--in", file.toString(), "--out", back.toString(), "--backend", "cpu");
    assertEquals(1, again.code());
    assertEquals("mspx: --out " + back + ": face 0.png is already there; give an empty or new folder", again.err().strip());
  }

  @Test
  void aCorruptFileIsOneLine() throws IOException {
    Path in = pngs(), ck = checkpoint(), file = dir.resolve("faces.mspxz");
    assertEquals(0, run("compress", "--checkpoint", ck.toString(), "--in", in.toString(), "--out", file.toString(), "--backend", "cpu").code());
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(file, bytes);
    Result d = run("decompress", "--checkpoint", ck.toString(), "--in", file.toString(), "--out", dir.resolve("back").toString(), "--backend", "cpu");
    assertEquals(1, d.code());
    assertEquals("mspx: " + file + " is corrupt or truncated: its CRC-32C does not match its " + bytes.length
        + " bytes; nothing was decoded. Compress the images again, or use an intact copy", d.err().strip());
    assertTrue(Files.notExists(dir.resolve("back")));
  }

  private static int[] pixels(Path png) throws IOException {
    BufferedImage img = ImageIO.read(png.toFile());
    return img.getRaster().getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
  }
}
