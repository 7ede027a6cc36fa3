package dev.mspx.samples;

import dev.mspx.core.data.DatasetException;
import dev.mspx.core.data.IdxFile;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the repository ships in {@code samples/shipped/}: the trained {@code fashion28-labelled}
 * model (an inference checkpoint: parameters, name, fingerprint, step, data, test bits/dim) and
 * Fashion-MNIST's test split in its original gzipped IDX form with its MIT licence, so that
 * {@code ./mspx demo} needs nothing installed and no network.
 *
 * <p>Found from {@code -Dmspx.home} (the repository root, which {@code ./mspx} passes), else from where
 * this class was loaded ({@code samples/target/classes} or the jar in {@code samples/target}).
 */
final class Shipped {

  static final String MODEL = "fashion28-labelled.arrow";

  private Shipped() {}

  /** {@code samples/shipped}, wherever the repository is. */
  static Path folder() {
    String home = System.getProperty("mspx.home");
    if (home != null && !home.isBlank()) {
      return Path.of(home, "samples", "shipped");
    }
    try {
      Path at = Path.of(Shipped.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      for (Path p = at; p != null; p = p.getParent()) {
        if (Files.isDirectory(p.resolve("shipped")) && p.getFileName() != null && p.getFileName().toString().equals("samples")) {
          return p.resolve("shipped");
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // fall through to the message below
    }
    throw new IllegalArgumentException("cannot find samples/shipped (the shipped model and test images): run ./mspx from the repository,"
        + " or pass -Dmspx.home=REPOSITORY");
  }

  static Path model() {
    return folder().resolve(MODEL);
  }

  /** Fashion-MNIST's 10,000 test images with their labels, read from the shipped IDX files into memory. */
  static ImageSet fashionTest() {
    return fashionTest(folder().resolve("fashion-mnist"));
  }

  /** Whether {@code dir} holds Fashion-MNIST's test split (the two t10k files, gzipped or not) directly. */
  static boolean hasFashionTest(Path dir) {
    return (Files.isRegularFile(dir.resolve("t10k-images-idx3-ubyte.gz")) || Files.isRegularFile(dir.resolve("t10k-images-idx3-ubyte")))
        && (Files.isRegularFile(dir.resolve("t10k-labels-idx1-ubyte.gz")) || Files.isRegularFile(dir.resolve("t10k-labels-idx1-ubyte")));
  }

  /** The test split of the t10k files in {@code dir}, into memory. */
  static ImageSet fashionTest(Path dir) {
    Path images = pick(dir, "t10k-images-idx3-ubyte"), labels = pick(dir, "t10k-labels-idx1-ubyte");
    IdxFile x = IdxFile.read(images);
    IdxFile y = IdxFile.read(labels);
    if (x.dims().length != 3 || x.dims()[1] != 28 || x.dims()[2] != 28 || y.dims().length != 1 || y.dims()[0] != x.dims()[0]) {
      throw new DatasetException(images, images + " and " + labels + " are not Fashion-MNIST's test split: restore them with git checkout");
    }
    byte[] raw = y.data();
    int[] label = new int[raw.length];
    for (int i = 0; i < raw.length; i++) {
      label[i] = raw[i] & 0xff;
    }
    return ImageSets.fromBytes(1, 28, 28, x.data(), label, 10, "Fashion-MNIST test: " + images);
  }

  private static Path pick(Path dir, String name) {
    Path gz = dir.resolve(name + ".gz");
    return Files.isRegularFile(gz) ? gz : dir.resolve(name);
  }
}
