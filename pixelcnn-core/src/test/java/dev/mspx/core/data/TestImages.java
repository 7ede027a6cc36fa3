package dev.mspx.core.data;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Small image files with known pixels, written with {@code javax.imageio}. */
final class TestImages {

  private TestImages() {}

  /** A pixel value as a function of position and channel. */
  interface Pixel {
    int at(int x, int y, int channel);
  }

  /** An 8-bit RGB PNG. */
  static Path rgbPng(Path file, int width, int height, Pixel p) {
    return write(
        file, "png", fill(new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR), p));
  }

  /** An 8-bit RGBA PNG; alpha is {@code p.at(x, y, 3)}. */
  static Path rgbaPng(Path file, int width, int height, Pixel p) {
    return write(
        file, "png", fill(new BufferedImage(width, height, BufferedImage.TYPE_4BYTE_ABGR), p));
  }

  /** An 8-bit grey PNG. */
  static Path greyPng(Path file, int width, int height, Pixel p) {
    return write(
        file, "png", fill(new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY), p));
  }

  /** A 16-bit grey PNG. */
  static Path grey16Png(Path file, int width, int height) {
    BufferedImage im = new BufferedImage(width, height, BufferedImage.TYPE_USHORT_GRAY);
    im.getRaster().setSample(0, 0, 0, 40000);
    return write(file, "png", im);
  }

  /** A grey JPEG of one level everywhere (uniform blocks decode exactly). */
  static Path greyJpeg(Path file, int width, int height, int level) {
    return write(
        file,
        "jpeg",
        fill(new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY), (x, y, c) -> level));
  }

  /** An RGB JPEG (lossy: levels come back only approximately). */
  static Path rgbJpeg(Path file, int width, int height, Pixel p) {
    return write(
        file, "jpeg", fill(new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR), p));
  }

  private static BufferedImage fill(BufferedImage im, Pixel p) {
    WritableRaster r = im.getRaster();
    // Raster band b is the colour model's component b: R, G, B(, A) or grey, whatever the storage.
    for (int y = 0; y < im.getHeight(); y++) {
      for (int x = 0; x < im.getWidth(); x++) {
        for (int b = 0; b < r.getNumBands(); b++) {
          r.setSample(x, y, b, p.at(x, y, b));
        }
      }
    }
    return im;
  }

  private static Path write(Path file, String format, BufferedImage im) {
    try {
      if (!ImageIO.write(im, format, file.toFile())) {
        throw new IllegalStateException("no " + format + " writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }
}
