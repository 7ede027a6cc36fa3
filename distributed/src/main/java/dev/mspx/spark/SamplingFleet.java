package dev.mspx.spark;

import dev.mspx.api.HostMemory;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.Conditions;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
import dev.mspx.core.data.ArrowImageFile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * N samples of a checkpoint spread over the executors. Image {@code i} is drawn from seed {@code seed +
 * i} alone ({@link Model#sample}: one random stream per image), so it is the image a single process
 * draws for that index with the same seed, whichever task drew it, and {@code mspx sample --count 1
 * --seed S+i} draws it again. Tasks return their images to the driver, which writes them as PNG files
 * ({@code OUT/sample-SEED.png}, partition by partition as they arrive) or as one Arrow image file; so
 * {@code OUT} need only be writable by the driver.
 */
public final class SamplingFleet {

  /** How the images are written. */
  public enum Format {
    PNG,
    ARROW
  }

  /** A task's images, {@code uint8 [n, C, H, W]}, and the first image's index. */
  record Part(int from, int count, byte[] images, int[] labels) implements Serializable {}

  /** A range of images one task draws. */
  record Range(int from, int to) implements Serializable {}

  private final JavaSparkContext spark;

  public SamplingFleet(JavaSparkContext spark) {
    this.spark = spark;
  }

  /**
   * Draws {@code count} images from seeds {@code seed..seed+count-1} in {@code partitions} tasks,
   * {@code batch} at a time in each, and writes them to {@code out} (a folder for PNG, a file for Arrow).
   * A class-conditional model draws image i of class {@code label}, or of {@code i mod classes} when
   * {@code label} is null. Returns the number of images written.
   */
  public int sample(Path checkpoint, int count, long seed, Integer label, int partitions, int batch, Sampler.RasterMode raster,
      Format format, Path out, String backend, int threads) {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be at least 1, got " + count);
    }
    if (partitions < 1) {
      throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
    }
    ModelSpec spec;
    try (Model model = Model.load(checkpoint, Replicas.backend("cpu", 1, "driver"))) {
      spec = model.spec();
      conditions(model, label, 0, count); // refuses a label the model cannot take, before any task starts
    }
    int parts = Math.min(partitions, count);
    List<Range> ranges = new ArrayList<>();
    for (int p = 0; p < parts; p++) {
      ranges.add(new Range((int) ((long) count * p / parts), (int) ((long) count * (p + 1) / parts)));
    }
    Broadcast<byte[]> state = spark.broadcast(DistributedEvaluation.read(checkpoint));
    try {
      spark.setJobDescription("mspx sample " + checkpoint.getFileName() + ": " + count + " images in " + parts + " tasks");
      Iterator<Part> drawn = spark.parallelize(ranges, parts)
          .map(r -> draw(state.value(), r, seed, label, batch, raster, backend, threads))
          .toLocalIterator();
      return format == Format.PNG ? writePngs(drawn, spec, seed, out) : writeArrow(drawn, spec, count, seed, out);
    } finally {
      state.destroy();
    }
  }

  private static Part draw(byte[] checkpoint, Range range, long seed, Integer label, int batch, Sampler.RasterMode raster, String backend, int threads) {
    Path local = Replicas.localCopy(checkpoint, "mspx-sample-");
    int n = range.to() - range.from();
    try (Model model = Model.load(local, Replicas.backend(backend, threads, "sample-" + range.from()));
        HostMemory host = HostMemory.create("fleet")) {
      Conditions conditions = conditions(model, label, range.from(), n);
      int b = batch > 0 ? Math.min(batch, n) : model.defaultBatch(n);
      try (Model.Samples s = model.sample(n, seed + range.from(), raster, conditions, b, host, Progress.NONE)) {
        return new Part(range.from(), n, s.images().toByteArray(), labels(model, label, range.from(), n));
      }
    } finally {
      local.toFile().delete();
    }
  }

  /** The classes of images {@code [from, from + n)}: {@code label}, or i mod classes; null for an unconditional model. */
  private static int[] labels(Model model, Integer label, int from, int n) {
    var conditioning = model.spec().conditioning();
    if (conditioning.isEmpty()) {
      return null;
    }
    int classes = conditioning.get(0).width();
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = label != null ? label : (from + i) % classes;
    }
    return out;
  }

  private static Conditions conditions(Model model, Integer label, int from, int n) {
    if (model.spec().conditioning().isEmpty()) {
      if (label != null) {
        throw new IllegalArgumentException("--label " + label + ": model " + model.name() + " is unconditional; drop --label");
      }
      return Conditions.none();
    }
    return Conditions.classLabels(labels(model, label, from, n));
  }

  private static int writePngs(Iterator<Part> parts, ModelSpec spec, long seed, Path folder) {
    try {
      Files.createDirectories(folder);
      int written = 0;
      int c = spec.channels(), size = spec.size(), bytes = c * size * size;
      while (parts.hasNext()) {
        Part part = parts.next();
        for (int i = 0; i < part.count(); i++) {
          byte[] png = png(part.images(), i * bytes, c, size, spec.levels());
          Path file = folder.resolve(String.format(Locale.ROOT, "sample-%d.png", seed + part.from() + i));
          Path tmp = Files.createTempFile(folder, "." + file.getFileName() + ".", ".tmp");
          Files.write(tmp, png);
          try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
          }
          written++;
        }
      }
      return written;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write samples to " + folder + ": " + e.getMessage(), e);
    }
  }

  private static int writeArrow(Iterator<Part> parts, ModelSpec spec, int count, long seed, Path file) {
    int bytes = (int) spec.dimensions();
    byte[] all = new byte[Math.multiplyExact(count, bytes)];
    int[] labels = spec.conditioning().isEmpty() ? null : new int[count];
    while (parts.hasNext()) {
      Part part = parts.next();
      System.arraycopy(part.images(), 0, all, part.from() * bytes, part.count() * bytes);
      if (labels != null) {
        System.arraycopy(part.labels(), 0, labels, part.from(), part.count());
      }
    }
    ArrowImageFile.write(file, spec.channels(), spec.size(), spec.size(), all, labels, labels == null ? 0 : spec.conditioning().get(0).width(),
        "mspx sample fleet of " + spec.catalogName() + ", seeds " + seed + ".." + (seed + count - 1) + " (image i from seed " + seed + " + i)");
    return count;
  }

  /** One image ({@code C = 1} grey or 3 RGB, levels scaled to 0..255) as PNG bytes. */
  static byte[] png(byte[] images, int offset, int channels, int size, int levels) throws IOException {
    BufferedImage image = new BufferedImage(size, size, channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
    int plane = size * size;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        if (channels == 1) {
          image.getRaster().setSample(x, y, 0, scale(images[offset + y * size + x], levels));
        } else {
          int rgb = 0;
          for (int ch = 0; ch < 3; ch++) {
            rgb = (rgb << 8) | scale(images[offset + ch * plane + y * size + x], levels);
          }
          image.setRGB(x, y, rgb);
        }
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!ImageIO.write(image, "png", out)) {
      throw new IOException("no PNG writer in this JDK");
    }
    return out.toByteArray();
  }

  private static int scale(byte v, int levels) {
    int u = Byte.toUnsignedInt(v);
    return levels == 256 ? u : Math.round(u * 255f / (levels - 1));
  }
}
