package dev.mspx.samples;

import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.codec.ImageCodec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mspx decompress}: the images of a file {@code mspx compress} wrote, as PNGs under their names. */
@Command(
    name = "decompress",
    description = "Restore the PNGs of a file mspx compress wrote, bit for bit, with the same checkpoint and backend kernels.")
final class DecompressCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "The checkpoint the file was compressed with.")
  Path checkpoint;

  @Option(names = "--in", required = true, description = "The file mspx compress wrote.")
  Path in;

  @Option(names = "--out", required = true, description = "A folder for the PNGs (created; files already there are not overwritten).")
  Path out;

  @Mixin BackendOption backendOption;

  @Override
  public Integer call() throws IOException {
    PrintWriter printer = spec.commandLine().getOut();
    if (!Files.isRegularFile(in)) {
      throw new IllegalArgumentException("--in " + in + ": no such file; give a file mspx compress wrote");
    }
    byte[] file = Files.readAllBytes(in);
    ImageCodec.Header header = ImageCodec.header(file, in.toString()); // refuses a corrupt file before the model loads
    List<Path> targets = new ArrayList<>();
    for (int i = 0; i < header.count(); i++) {
      String name = header.names().isEmpty() ? String.format(Locale.ROOT, "image-%05d.png", i) : header.names().get(i);
      Path target = out.resolve(name).normalize();
      if (!target.getParent().equals(out.normalize()) || name.isEmpty()) {
        throw new IllegalArgumentException(in + " names an image '" + name + "' that is not a plain file name; it was not written by mspx compress");
      }
      if (Files.exists(target)) {
        throw new IllegalArgumentException("--out " + out + ": " + name + " is already there; give an empty or new folder");
      }
      targets.add(target);
    }
    long t0 = System.nanoTime();
    try (Model model = Model.load(checkpoint, backendOption.module())) {
      ImageCodec.Images images = ImageCodec.decompress(model, file, in.toString(), Progress.NONE);
      double seconds = (System.nanoTime() - t0) / 1e9;
      Files.createDirectories(out);
      int per = images.channels() * images.height() * images.width();
      for (int i = 0; i < images.count(); i++) {
        writePng(images.pixels(), i * per, images.channels(), images.height(), images.width(), targets.get(i));
      }
      printer.printf(Locale.ROOT, "decompressed %d images (%s) into %s in %.1f s (%.1f ms per image)%n",
          images.count(), header.describe(), out, seconds, 1000 * seconds / images.count());
    }
    return 0;
  }

  /** One image, {@code uint8 [C, H, W]} at {@code offset}, as an 8-bit grey (C = 1) or RGB (C = 3) PNG. */
  static void writePng(byte[] pixels, int offset, int channels, int height, int width, Path file) throws IOException {
    BufferedImage image;
    if (channels == 1) {
      image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          image.getRaster().setSample(x, y, 0, pixels[offset + y * width + x] & 0xFF);
        }
      }
    } else {
      image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
      int plane = height * width;
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          int at = offset + y * width + x;
          image.setRGB(x, y, (pixels[at] & 0xFF) << 16 | (pixels[at + plane] & 0xFF) << 8 | (pixels[at + 2 * plane] & 0xFF));
        }
      }
    }
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IOException("no PNG writer in this JDK");
    }
  }
}
