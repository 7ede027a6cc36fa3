package dev.mspx.samples;

import dev.mspx.core.Checkpoint;
import dev.mspx.core.Model;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mspx upscale}: super-resolution with a multiscale model's learned upscalers. The input is
 * group 1 at its own scale; the upscaling nets draw the rest, one doubling at a time, with the model's
 * top stages (see {@link ModelFiles}).
 */
@Command(name = "upscale", description = {
    "Super-resolution: the input image is the model's group 1 at its scale; the upscaling nets draw the rest.",
    "Takes a square image whose side is the model's base times a power of 2 (e.g. 64x64 for speed512) and --to a power-of-2 multiple."})
final class UpscaleCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "A multiscale model's checkpoint (e.g. speed512 trained with --crop 64).")
  Path checkpoint;

  @Option(names = "--in", required = true, description = "The image to enlarge (PNG, JPEG, BMP, GIF: what javax.imageio reads).")
  Path in;

  @Option(names = "--to", required = true, description = "Output side in pixels: the input's times 2, 4, 8, ...")
  int to;

  @Option(names = "--out", required = true, description = "The enlarged image (.png, .jpg, .bmp, .gif or .tiff).")
  Path out;

  @Option(names = "--compare", description = "Also write a picture of the input, its bicubic enlargement and ours side by side.")
  Path compare;

  @Option(names = "--reference", description = "With --compare: the true image at the output size, shown last (e.g. the photo the input was cut from).")
  Path reference;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the draws (default: ${DEFAULT-VALUE}).")
  long seed;

  @Mixin BackendOption backendOption;

  @Override
  public Integer call() throws IOException {
    PrintWriter printer = spec.commandLine().getOut();
    UsageException.atLeast("--to", to, 2);
    Images.checkOutput(out, "--out");
    if (compare != null) {
      Images.checkOutput(compare, "--compare");
    }
    if (reference != null && compare == null) {
      throw new UsageException("--reference is shown in the --compare picture: give --compare too");
    }
    BufferedImage input = read(in);
    BufferedImage truth = reference == null ? null : read(reference);
    if (truth != null && (truth.getWidth() != to || truth.getHeight() != to)) {
      throw new IllegalArgumentException("--reference " + reference + " is " + truth.getWidth() + "×" + truth.getHeight() + ": it must be the output size, "
          + to + "×" + to);
    }
    int side = input.getWidth();
    if (input.getHeight() != side) {
      throw new IllegalArgumentException("--in " + in + " is " + input.getWidth() + "×" + input.getHeight()
          + ": upscale takes a square image; crop it to a square first");
    }
    if (to <= side || to % side != 0 || Integer.bitCount(to / side) != 1) {
      throw new UsageException("--to " + to + " for a " + side + "×" + side + " input: give the input's side times 2, 4, 8, ... (e.g. " + side * 8 + ")");
    }
    Checkpoint cp = Checkpoint.read(checkpoint);
    int base = ModelFiles.declared(cp, checkpoint).base();
    int s = side;
    while (s > base && s % 2 == 0) {
      s /= 2;
    }
    if (s != base) {
      throw new IllegalArgumentException("--in " + in + " is " + side + "×" + side + ": model " + cp.modelName() + " grows from a "
          + base + "×" + base + " base by doubling, so the input's side must be " + base + "·2^k (e.g. " + base * 8 + "): resize or crop it");
    }
    try (Model model = ModelFiles.load(checkpoint, backendOption.module(), to, side)) {
      int c = model.spec().channels();
      byte[] chw = pixels(input, c);
      Upscaler.Result result = Upscaler.upscale(model, chw, seed);
      BufferedImage ours = Images.picture(result.image(), c, to, to, model.spec().levels(), 1);
      Images.write(ours, out);
      printer.printf(Locale.ROOT, "%d×%d → %d×%d in %.2f s (%d upscalings, %d network evaluations); wrote %s%n",
          side, side, to, to, result.seconds(), model.spec().upscalings(), result.evaluations(), out);
      if (compare != null) {
        Images.write(comparison(input, ours, truth, to, result.seconds()), compare);
        printer.println("wrote " + compare + " (input, bicubic, mspx upscale" + (truth != null ? ", reference" : "") + ")");
      }
    }
    return 0;
  }

  /** The picture of an input file, refused with what is wrong when it is not one. */
  static BufferedImage read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--in " + file + ": no such file");
    }
    BufferedImage image;
    try {
      image = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("--in " + file + " cannot be decoded (" + e.getMessage() + "): give a PNG, JPEG, BMP or GIF file");
    }
    if (image == null) {
      throw new IllegalArgumentException("--in " + file + " is not an image javax.imageio reads: give a PNG, JPEG, BMP or GIF file");
    }
    return image;
  }

  /** {@code [C, H, W]} bytes of a picture: RGB for C = 3, the mean of R, G and B for C = 1 (alpha ignored). */
  static byte[] pixels(BufferedImage image, int c) {
    int h = image.getHeight(), w = image.getWidth();
    byte[] out = new byte[c * h * w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = image.getRGB(x, y);
        int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
        if (c == 1) {
          out[y * w + x] = (byte) Math.round((r + g + b) / 3.0);
        } else {
          out[y * w + x] = (byte) r;
          out[(h + y) * w + x] = (byte) g;
          out[(2 * h + y) * w + x] = (byte) b;
        }
      }
    }
    return out;
  }

  /** {@code input} enlarged to {@code to}×{@code to} by Java 2D's bicubic interpolation. */
  static BufferedImage bicubic(BufferedImage input, int to) {
    BufferedImage out = new BufferedImage(to, to, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    g.drawImage(input, 0, 0, to, to, null);
    g.dispose();
    return out;
  }

  /** Input (nearest neighbour), bicubic, ours and the reference (when given), each {@code to} wide, captioned. */
  static BufferedImage comparison(BufferedImage input, BufferedImage ours, BufferedImage reference, int to, double seconds) {
    int gap = 6, caption = 18, panels = reference == null ? 3 : 4;
    BufferedImage out = Images.canvas(panels * to + (panels + 1) * gap, to + 2 * gap + caption);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
    g.drawImage(input, gap, gap, to, to, null);
    g.drawImage(bicubic(input, to), 2 * gap + to, gap, null);
    g.drawImage(ours, 3 * gap + 2 * to, gap, null);
    int y = gap + to + 14;
    Images.text(g, "input " + input.getWidth() + "×" + input.getHeight() + " (pixels shown as blocks)", gap, y, 12, to);
    Images.text(g, "bicubic to " + to + "×" + to, 2 * gap + to, y, 12, to);
    Images.text(g, String.format(Locale.ROOT, "mspx upscale to %d×%d (%.1f s)", to, to, seconds), 3 * gap + 2 * to, y, 12, to);
    if (reference != null) {
      g.drawImage(reference, 4 * gap + 3 * to, gap, null);
      Images.text(g, "reference (the true " + to + "×" + to + ")", 4 * gap + 3 * to, y, 12, to);
    }
    g.dispose();
    return out;
  }
}
