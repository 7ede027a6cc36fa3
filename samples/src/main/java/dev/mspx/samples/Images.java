package dev.mspx.samples;

import dev.mspx.api.HostTensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Writes a batch of images as one PNG grid. */
final class Images {

  private Images() {}

  /** {@code uint8 [N, C, H, W]} (C = 1 or 3) as a grid of ⌈√N⌉ columns with 2-pixel gaps, levels scaled to 0..255. */
  static void writeGrid(HostTensor images, int levels, Path file) throws IOException {
    int n = images.shape().dim(0), c = images.shape().dim(1), h = images.shape().dim(2), w = images.shape().dim(3);
    int cols = (int) Math.ceil(Math.sqrt(n)), rows = (n + cols - 1) / cols, gap = 2;
    BufferedImage grid = new BufferedImage(cols * (w + gap) + gap, rows * (h + gap) + gap, BufferedImage.TYPE_INT_RGB);
    for (int b = 0; b < n; b++) {
      int x0 = gap + (b % cols) * (w + gap), y0 = gap + (b / cols) * (h + gap);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int[] rgb = new int[3];
          for (int k = 0; k < 3; k++) {
            int ch = c == 1 ? 0 : k;
            int v = images.getUnsignedByte(((long) (b * c + ch) * h + y) * w + x);
            rgb[k] = levels == 256 ? v : Math.round(v * 255f / (levels - 1));
          }
          grid.setRGB(x0 + x, y0 + y, (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
        }
      }
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (!ImageIO.write(grid, "png", file.toFile())) {
      throw new IOException("no PNG writer in this JDK");
    }
  }
}
