package dev.mspx.samples;

import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.data.ImageSet;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code mspx eval --heatmap}: each scored image beside a heat map of its surprise, the bits the model
 * spent on each pixel (summed over the pixel's colour channels), on one colour scale for all images
 * from 0 to the 99th percentile of the pixels shown (a few extreme pixels would otherwise wash out
 * the rest), drawn with a bar that says the scale.
 */
final class SurpriseMap {

  /** Inferno-like: black, purple, red, orange, pale yellow. */
  private static final int[] RAMP = {0x000004, 0x420A68, 0x932667, 0xDD513A, 0xFCA50A, 0xFCFFA4};

  private final int count;
  private final int channels;
  private final int size;
  private final int levels;
  private final double[][] bits;

  SurpriseMap(ModelSpec spec, int count) {
    this.count = count;
    this.channels = spec.channels();
    this.size = spec.size();
    this.levels = spec.levels();
    this.bits = new double[count][size * size];
  }

  int images() {
    return count;
  }

  /** One sub-pixel's bits (from {@code Scorer.SubpixelSink}); images past the count are ignored. */
  void add(int image, int channel, int y, int x, double b) {
    if (image < count) {
      bits[image][y * size + x] += b;
    }
  }

  /** Pairs of (image, heat map) in rows of four, with the scale bar below. */
  void write(ImageSet set, Path file) throws IOException {
    int scale = Images.defaultScale(size), side = size * scale, gap = 4, pair = 2 * side + 2;
    int columns = Math.min(4, count), rows = (count + columns - 1) / columns;
    double top = percentile99();
    int barHeight = 34;
    BufferedImage out = Images.canvas(columns * (pair + 3 * gap) + gap, rows * (side + gap) + gap + barHeight);
    Graphics2D g = out.createGraphics();
    try (HostMemory host = HostMemory.create("heatmap");
        HostTensor images = host.allocate(Shape.nchw(count, channels, size, size), DType.UINT8, "heatmap.images")) {
      int[] idx = new int[count];
      for (int i = 0; i < count; i++) {
        idx[i] = i;
      }
      set.gather(idx, images);
      for (int i = 0; i < count; i++) {
        int x0 = gap + (i % columns) * (pair + 3 * gap), y0 = gap + (i / columns) * (side + gap);
        g.drawImage(Images.picture(images, i, levels, scale), x0, y0, null);
        g.drawImage(heat(bits[i], top, scale), x0 + side + 2, y0, null);
      }
    }
    int barY = rows * (side + gap) + gap, barWidth = Math.min(256, out.getWidth() - 2 * gap - 120);
    for (int x = 0; x < barWidth; x++) {
      g.setColor(new Color(colour((double) x / (barWidth - 1))));
      g.fillRect(gap + x, barY + 2, 1, 12);
    }
    Images.text(g, String.format(Locale.ROOT, "0 … %.1f bits per pixel (99th percentile; above: brightest)", top), gap, barY + 28, 11, out.getWidth() - 2 * gap);
    g.dispose();
    Images.write(out, file);
  }

  private double percentile99() {
    double[] all = new double[count * size * size];
    for (int i = 0; i < count; i++) {
      System.arraycopy(bits[i], 0, all, i * size * size, size * size);
    }
    java.util.Arrays.sort(all);
    double p = all[Math.min(all.length - 1, (int) Math.floor(0.99 * (all.length - 1)))];
    return p > 0 ? p : 1;
  }

  private BufferedImage heat(double[] b, double top, int scale) {
    BufferedImage out = new BufferedImage(size * scale, size * scale, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int rgb = colour(Math.min(1, b[y * size + x] / top));
        for (int dy = 0; dy < scale; dy++) {
          for (int dx = 0; dx < scale; dx++) {
            out.setRGB(x * scale + dx, y * scale + dy, rgb);
          }
        }
      }
    }
    return out;
  }

  /** The ramp at {@code t} in [0, 1], linearly between its anchors. */
  static int colour(double t) {
    double at = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
    int i = Math.min(RAMP.length - 2, (int) at);
    double f = at - i;
    int a = RAMP[i], b = RAMP[i + 1], rgb = 0;
    for (int shift = 16; shift >= 0; shift -= 8) {
      int ca = (a >> shift) & 0xff, cb = (b >> shift) & 0xff;
      rgb |= (int) Math.round(ca + f * (cb - ca)) << shift;
    }
    return rgb;
  }
}
