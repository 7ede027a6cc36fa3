package dev.mspx.core.data;

import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryOwner;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Entry points for the command line and the trainer: where prepared data is cached, what {@code
 * --data} accepts ({@link #open}), in-memory sets ({@link #fromBytes}) and fingerprints ({@link
 * #levelSum}). {@code --images DIR} is {@link PngFolder#load}.
 */
public final class ImageSets {

  /** System property that overrides the cache folder for prepared Arrow files. */
  public static final String CACHE_PROPERTY = "mspx.cache";

  private static final ValueLayout.OfInt INT_LE =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final MemoryOwner SUMMER =
      new MemoryOwner() {
        @Override
        public String name() {
          return "level-sum";
        }

        @Override
        public long outstandingBytes() {
          return 0;
        }
      };

  private ImageSets() {}

  /**
   * Where prepared Arrow files go unless a caller says otherwise: the system property {@value
   * #CACHE_PROPERTY} if set, else {@code $XDG_CACHE_HOME/mspx} if that variable holds an absolute
   * path (as the XDG base directory specification says), else {@code ~/.cache/mspx}.
   */
  public static Path defaultCacheDir() {
    String property = System.getProperty(CACHE_PROPERTY);
    if (property != null && !property.isBlank()) {
      return Path.of(property);
    }
    return cacheDir(System.getenv("XDG_CACHE_HOME"), System.getProperty("user.home"));
  }

  static Path cacheDir(String xdgCacheHome, String home) {
    if (xdgCacheHome != null && !xdgCacheHome.isBlank() && Path.of(xdgCacheHome).isAbsolute()) {
      return Path.of(xdgCacheHome, "mspx");
    }
    return Path.of(home, ".cache", "mspx");
  }

  /**
   * The train and test images that {@code --data} names, checked against the model's image shape:
   *
   * <ul>
   *   <li>a folder with Fashion-MNIST's IDX files (in it or under it): {@link
   *       FashionMnist#prepare};
   *   <li>a folder with photos directly in it: {@link PhotoTiles#prepare} with tiles of {@code
   *       size};
   *   <li>a prepared file {@code NAME-train.arrow} or {@code NAME-test.arrow}: it and its sibling.
   * </ul>
   *
   * @param cacheDir where prepared files are written and looked for (e.g. {@link #defaultCacheDir})
   * @throws DatasetException when the data is missing or does not fit the model
   */
  public static Splits open(Path data, Path cacheDir, int channels, int size) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(cacheDir, "cacheDir");
    Splits splits;
    if (Files.isRegularFile(data)) {
      splits = openPair(data);
    } else if (Files.isDirectory(data)) {
      boolean photos = !PhotoTiles.photoFiles(data).isEmpty();
      boolean idxHere = false;
      for (String name : FashionMnist.NAMES) {
        idxHere |= Files.exists(data.resolve(name + ".gz")) || Files.exists(data.resolve(name));
      }
      if (photos && !idxHere) {
        splits = PhotoTiles.prepare(data, cacheDir, size);
      } else if (FashionMnist.isPresent(data)) {
        splits = FashionMnist.prepare(data, cacheDir);
      } else {
        throw new DatasetException(
            data,
            data
                + " holds neither Fashion-MNIST nor photos. --data takes a folder with the IDX"
                + " files "
                + String.join(", ", FashionMnist.NAMES)
                + " (.gz or plain, in it or a sub-folder; apt-get install dataset-fashion-mnist"
                + " puts them in "
                + FashionMnist.DEFAULT_DIR
                + "), a folder with more than "
                + PhotoTiles.TEST_PHOTOS
                + " .jpg/.jpeg/.png photos directly in it (apt-get install lomiri-wallpapers-16.04"
                + " puts some in "
                + PhotoTiles.DEFAULT_DIR
                + "), or a prepared NAME-train.arrow file");
      }
    } else {
      throw new DatasetException(
          data, data + ": no such file or folder; --data takes a data folder or a prepared .arrow");
    }
    ImageSet t = splits.train();
    if (t.channels() != channels || t.height() != size || t.width() != size) {
      splits.close();
      throw new DatasetException(
          data,
          data
              + " gives "
              + t.channels()
              + "x"
              + t.height()
              + "x"
              + t.width()
              + " images ("
              + t.source()
              + "); the model needs "
              + channels
              + "x"
              + size
              + "x"
              + size
              + ": choose the data that fits the model's configuration");
    }
    return splits;
  }

  private static Splits openPair(Path file) {
    String name = file.getFileName().toString();
    String lower = name.toLowerCase(Locale.ROOT);
    Path train;
    Path test;
    if (lower.endsWith("-train.arrow")) {
      train = file;
      test =
          file.resolveSibling(
              name.substring(0, name.length() - "train.arrow".length()) + "test.arrow");
    } else if (lower.endsWith("-test.arrow")) {
      test = file;
      train =
          file.resolveSibling(
              name.substring(0, name.length() - "test.arrow".length()) + "train.arrow");
    } else {
      throw new DatasetException(
          file,
          file
              + ": --data takes a prepared file named NAME-train.arrow (with NAME-test.arrow beside"
              + " it), or a data folder; for a single Arrow image file use ArrowImageFile.open");
    }
    if (!Files.isRegularFile(train) || !Files.isRegularFile(test)) {
      throw new DatasetException(
          file,
          file
              + ": its partner "
              + (Files.isRegularFile(train) ? test : train).getFileName()
              + " is not beside it; a prepared data set is a -train.arrow and a -test.arrow file");
    }
    ImageSet tr = ArrowImageFile.open(train);
    try {
      return new Splits(tr, ArrowImageFile.open(test));
    } catch (RuntimeException e) {
      tr.close();
      throw e;
    }
  }

  /**
   * An in-memory set over a copy of {@code images} ({@code n·C·H·W} bytes, image after image,
   * channel-major) with optional {@code labels} (null for none) in {@code 0..classes-1}.
   */
  public static ImageSet fromBytes(
      int channels,
      int height,
      int width,
      byte[] images,
      int[] labels,
      int classes,
      String source) {
    return fromBytes("in-memory images", channels, height, width, images, labels, classes, source);
  }

  static ImageSet fromBytes(
      String name,
      int channels,
      int height,
      int width,
      byte[] images,
      int[] labels,
      int classes,
      String source) {
    Objects.requireNonNull(images, "images");
    Objects.requireNonNull(source, "source");
    if (channels < 1 || height < 1 || width < 1) {
      throw new IllegalArgumentException(
          "image shape "
              + channels
              + "x"
              + height
              + "x"
              + width
              + ": every dimension must be >= 1");
    }
    long row = (long) channels * height * width;
    if (images.length == 0 || images.length % row != 0) {
      throw new IllegalArgumentException(
          "images has "
              + images.length
              + " bytes; expected a positive multiple of "
              + row
              + " (C*H*W for "
              + channels
              + "x"
              + height
              + "x"
              + width
              + ")");
    }
    int n = (int) (images.length / row);
    if (labels != null) {
      if (labels.length != n) {
        throw new IllegalArgumentException(
            "labels has "
                + labels.length
                + " entries for "
                + n
                + " images; expected one per image");
      }
      if (classes < 1) {
        throw new IllegalArgumentException("classes " + classes + ": labelled images need >= 1");
      }
      for (int i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= classes) {
          throw new IllegalArgumentException(
              "labels[" + i + "] = " + labels[i] + " is outside 0.." + (classes - 1));
        }
      }
    }
    Arena arena = Arena.ofShared();
    MemorySegment img = arena.allocate(images.length, 64);
    MemorySegment.copy(images, 0, img, ValueLayout.JAVA_BYTE, 0, images.length);
    MemorySegment lab = null;
    if (labels != null) {
      lab = arena.allocate(4L * n, 4);
      for (int i = 0; i < n; i++) {
        lab.setAtIndex(INT_LE, i, labels[i]);
      }
    }
    return new SegmentImageSet(
        name, source, n, channels, height, width, classes, img, lab, 4, arena, img);
  }

  /**
   * The sum of every level of every image: a layout-free fingerprint of a data set (DESIGN.md
   * quotes it for the photo tiles).
   */
  public static long levelSum(ImageSet set) {
    Objects.requireNonNull(set, "set");
    long sum = 0;
    int chunk = Math.max(1, (1 << 20) / set.imageBytes());
    for (int from = 0; from < set.size(); from += chunk) {
      int k = Math.min(chunk, set.size() - from);
      try (HostTensor v = set.view(from, k, SUMMER)) {
        MemorySegment s = v.segment();
        long bytes = s.byteSize();
        long i = 0;
        // Eight levels per load; the order of the bytes in the word does not matter to a sum.
        for (; i + 8 <= bytes; i += 8) {
          long w = s.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
          for (int b = 0; b < 8; b++) {
            sum += (w >>> (8 * b)) & 0xff;
          }
        }
        for (; i < bytes; i++) {
          sum += Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, i));
        }
      }
    }
    return sum;
  }
}
