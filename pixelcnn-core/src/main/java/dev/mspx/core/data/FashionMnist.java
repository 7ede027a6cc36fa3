package dev.mspx.core.data;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Fashion-MNIST (Xiao et al. 2017): 28×28 grey images in 10 classes, 60,000 for training and 10,000
 * for testing, as the four IDX files of the Debian package {@code dataset-fashion-mnist} (in
 * {@value #DEFAULT_DIR_NAME}).
 *
 * <p>The files are looked for as the PyTorch peer's {@code find_file} does: under the data folder
 * and its sub-folders, depth first, the folder's own files before its sub-folders (sorted by name
 * here, so the choice is reproducible); each name gzipped ({@code .gz}) or, failing that, plain.
 * {@link #prepare} converts them once into two Arrow image files in a cache folder and maps those.
 */
public final class FashionMnist {

  static final String DEFAULT_DIR_NAME = "/usr/share/datasets/fashion-mnist";

  /** Where {@code apt-get install dataset-fashion-mnist} puts the IDX files. */
  public static final Path DEFAULT_DIR = Path.of(DEFAULT_DIR_NAME);

  public static final int TRAIN_IMAGES = 60_000;
  public static final int TEST_IMAGES = 10_000;
  public static final int SIZE = 28;
  public static final int CLASSES = 10;

  /** The cache file names {@link #prepare} writes. */
  public static final String TRAIN_FILE = "fashion-mnist-train.arrow";

  public static final String TEST_FILE = "fashion-mnist-test.arrow";

  static final String[] NAMES = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
  };

  private static final System.Logger LOG = System.getLogger(FashionMnist.class.getName());

  private FashionMnist() {}

  /** The four IDX files of Fashion-MNIST. */
  public record Sources(Path trainImages, Path trainLabels, Path testImages, Path testLabels) {}

  /**
   * Finds the four IDX files under {@code dataDir}.
   *
   * @throws DatasetException listing every file not found, where it was looked for, and how to get
   *     it
   */
  public static Sources locate(Path dataDir) {
    Objects.requireNonNull(dataDir, "dataDir");
    Path[] found = new Path[NAMES.length];
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < NAMES.length; i++) {
      found[i] = find(dataDir, NAMES[i]);
      if (found[i] == null) {
        missing.add(NAMES[i] + ".gz");
      }
    }
    if (!missing.isEmpty()) {
      throw new DatasetException(
          dataDir,
          "Fashion-MNIST not found: "
              + (Files.isDirectory(dataDir) ? "" : dataDir + " is not a folder; ")
              + "looked under "
              + dataDir.toAbsolutePath()
              + " and its sub-folders for "
              + String.join(", ", missing)
              + " (or the same names without .gz). Install it with `apt-get install"
              + " dataset-fashion-mnist` (it puts the files in "
              + DEFAULT_DIR_NAME
              + "), or pass --data DIR with DIR the folder that holds the IDX files "
              + String.join(", ", allNames())
              + ".");
    }
    return new Sources(found[0], found[1], found[2], found[3]);
  }

  /** Whether {@code dir} holds all four IDX files (under it, as {@link #locate} looks). */
  public static boolean isPresent(Path dir) {
    for (String name : NAMES) {
      if (find(dir, name) == null) {
        return false;
      }
    }
    return true;
  }

  private static List<String> allNames() {
    return Stream.of(NAMES).map(n -> n + ".gz").toList();
  }

  /**
   * {@code name.gz} or {@code name} in {@code dir}, else in its sub-folders depth first in name
   * order; null when nowhere. Symbolic links to folders are not followed (as Python's os.walk),
   * unreadable folders are skipped.
   */
  static Path find(Path dir, String name) {
    if (!Files.isDirectory(dir)) {
      return null;
    }
    for (String candidate : List.of(name + ".gz", name)) {
      Path p = dir.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    List<Path> children;
    try (Stream<Path> s = Files.list(dir)) {
      children =
          s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
              .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
              .toList();
    } catch (IOException | SecurityException e) {
      return null;
    }
    for (Path child : children) {
      Path p = find(child, name);
      if (p != null) {
        return p;
      }
    }
    return null;
  }

  /**
   * The Fashion-MNIST splits from the IDX files under {@code dataDir}, converted on first use into
   * {@value #TRAIN_FILE} and {@value #TEST_FILE} in {@code cacheDir} and memory-mapped from there.
   * A cache file is reused when it is valid, records the same source files, and was written no
   * earlier than they were last modified; otherwise it is rebuilt (atomically).
   */
  public static Splits prepare(Path dataDir, Path cacheDir) {
    return prepare(dataDir, cacheDir, TRAIN_IMAGES, TEST_IMAGES);
  }

  /** {@link #prepare(Path, Path)} with other expected counts: tests use small fake files. */
  static Splits prepare(Path dataDir, Path cacheDir, int trainCount, int testCount) {
    Objects.requireNonNull(cacheDir, "cacheDir");
    Sources s = locate(dataDir);
    ImageSet train =
        cached(cacheDir.resolve(TRAIN_FILE), "train", s.trainImages(), s.trainLabels(), trainCount);
    try {
      ImageSet test =
          cached(cacheDir.resolve(TEST_FILE), "test", s.testImages(), s.testLabels(), testCount);
      return new Splits(train, test);
    } catch (RuntimeException e) {
      train.close();
      throw e;
    }
  }

  private static ImageSet cached(Path cache, String split, Path images, Path labels, int count) {
    String source =
        "Fashion-MNIST " + split + ": " + images.toAbsolutePath() + " + " + labels.toAbsolutePath();
    ImageSet reused = reuse(cache, source, count, List.of(images, labels));
    if (reused != null) {
      return reused;
    }
    LOG.log(Level.INFO, "Fashion-MNIST: converting {0} into {1}", source, cache);
    IdxFile x = IdxFile.read(images);
    IdxFile y = IdxFile.read(labels);
    int[] xd = x.dims();
    int[] yd = y.dims();
    if (xd.length != 3 || xd[1] != SIZE || xd[2] != SIZE) {
      throw new DatasetException(
          images,
          images
              + ": dimensions "
              + java.util.Arrays.toString(xd)
              + "; Fashion-MNIST images are [N, 28, 28]. Is this the right file?");
    }
    if (yd.length != 1) {
      throw new DatasetException(
          labels,
          labels
              + ": dimensions "
              + java.util.Arrays.toString(yd)
              + "; Fashion-MNIST labels are [N]. Is this the right file?");
    }
    if (xd[0] != count || yd[0] != count) {
      throw new DatasetException(
          images,
          "Fashion-MNIST "
              + split
              + ": "
              + images.getFileName()
              + " holds "
              + xd[0]
              + " images and "
              + labels.getFileName()
              + " "
              + yd[0]
              + " labels; the "
              + split
              + " split has "
              + count
              + " of each. The files are incomplete or not Fashion-MNIST: reinstall them"
              + " (apt-get install --reinstall dataset-fashion-mnist)");
    }
    byte[] raw = y.data();
    int[] label = new int[raw.length];
    for (int i = 0; i < raw.length; i++) {
      label[i] = raw[i] & 0xff;
      if (label[i] >= CLASSES) {
        throw new DatasetException(
            labels,
            labels
                + ": label "
                + i
                + " (byte "
                + (8 + i)
                + " of the decompressed stream) is "
                + label[i]
                + "; Fashion-MNIST has classes 0.."
                + (CLASSES - 1));
      }
    }
    ArrowImageFile.write(cache, 1, SIZE, SIZE, x.data(), label, CLASSES, source);
    return ArrowImageFile.open(cache);
  }

  /**
   * The cache file opened if it can be trusted for {@code source}; null (and why, logged) if not.
   */
  private static ImageSet reuse(Path cache, String source, int count, List<Path> sources) {
    if (!Files.isRegularFile(cache)) {
      return null;
    }
    try {
      FileTime written = Files.getLastModifiedTime(cache);
      for (Path s : sources) {
        if (written.compareTo(Files.getLastModifiedTime(s)) < 0) {
          LOG.log(Level.INFO, "{0} is older than {1}: rebuilding it", cache, s);
          return null;
        }
      }
    } catch (IOException e) {
      return null;
    }
    ImageSet set;
    try {
      set = ArrowImageFile.open(cache);
    } catch (DatasetException e) {
      LOG.log(Level.WARNING, "rebuilding {0}: {1}", cache, e.getMessage());
      return null;
    }
    if (set.source().equals(source)
        && set.size() == count
        && set.channels() == 1
        && set.height() == SIZE
        && set.width() == SIZE
        && set.classes() == CLASSES) {
      LOG.log(Level.INFO, "Fashion-MNIST: reusing {0}", set.describe());
      return set;
    }
    LOG.log(Level.INFO, "rebuilding {0}: it holds {1}", cache, set.describe());
    set.close();
    return null;
  }
}
