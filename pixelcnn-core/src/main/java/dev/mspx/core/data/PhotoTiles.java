package dev.mspx.core.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Colour photo patches (DESIGN.md section 6, "Photo patches"), the data of the {@code photo32}
 * configurations.
 *
 * <p>The photos are the files directly in the folder whose names end in {@code .jpg}, {@code .jpeg}
 * or {@code .png} (any case), sorted by name with {@link String#compareTo} (code-point order, so
 * {@code B.png} comes before {@code a.png}); the last {@value #TEST_PHOTOS} are the test split, the
 * rest the training split. Each is decoded as stored ({@link ImageDecoder}: no EXIF rotation, no
 * colour management, alpha dropped, 16-bit refused; grey photos are replicated to RGB, as PIL's
 * {@code convert("RGB")} does for the peer), box-downsampled by 2 per channel ({@link
 * #boxDownsample2}) and cut into non-overlapping tiles left to right, top to bottom, partial tiles
 * dropped ({@link #cutTiles}). Tiles keep photo order.
 *
 * <p>The decoder is Java's, not the peer's PIL: JPEG pixels may differ by a few levels, so the
 * level sums of the tiles (see {@link ImageSets#levelSum}) are this implementation's own
 * fingerprint.
 */
public final class PhotoTiles {

  /** Where the Debian package lomiri-wallpapers-16.04 puts its photos. */
  public static final Path DEFAULT_DIR = Path.of("/usr/share/backgrounds");

  public static final int TEST_PHOTOS = 3;

  private static final List<String> SUFFIXES = List.of(".jpg", ".jpeg", ".png");
  // Bump when the rule or its implementation changes, so that old cache files are not reused.
  private static final String RULE = "mspx photo tiles 1 (DESIGN.md 6, javax.imageio)";
  private static final System.Logger LOG = System.getLogger(PhotoTiles.class.getName());

  private PhotoTiles() {}

  /** Whether {@code name} is a photo by its name: ends in .jpg, .jpeg or .png, any case. */
  public static boolean isPhotoName(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return SUFFIXES.stream().anyMatch(lower::endsWith);
  }

  /**
   * The photo files directly in {@code folder} (regular files, links followed; sub-folders not
   * searched), in code-point order of their names; other files are ignored.
   *
   * @throws DatasetException when the folder is missing or holds no more than {@value #TEST_PHOTOS}
   *     photos
   */
  public static List<Path> list(Path folder) {
    Objects.requireNonNull(folder, "folder");
    if (!Files.isDirectory(folder)) {
      throw new DatasetException(
          folder,
          folder
              + ": no such folder; expected the photos of the Debian package"
              + " lomiri-wallpapers-16.04 (apt-get install lomiri-wallpapers-16.04 puts them in "
              + DEFAULT_DIR
              + "), or pass --data DIR with a folder of .jpg/.jpeg/.png photos");
    }
    List<Path> photos = photoFiles(folder);
    if (photos.size() <= TEST_PHOTOS) {
      throw new DatasetException(
          folder,
          folder
              + ": "
              + photos.size()
              + " photos (*.jpg, *.jpeg, *.png directly in it); need more than "
              + TEST_PHOTOS
              + ", as the last "
              + TEST_PHOTOS
              + " by name are the test split");
    }
    return photos;
  }

  /** The photo files directly in {@code folder}, sorted; empty when there are none. */
  static List<Path> photoFiles(Path folder) {
    try (Stream<Path> s = Files.list(folder)) {
      return s.filter(p -> isPhotoName(p.getFileName().toString()))
          .filter(Files::isRegularFile)
          .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
          .toList();
    } catch (IOException e) {
      throw new DatasetException(folder, folder + ": cannot list it (" + e + ")", e);
    }
  }

  /**
   * The tiles of the photos in {@code folder}, {@code tile}×{@code tile} RGB, prepared on first use
   * into two Arrow image files in {@code cacheDir} named by a hash of the photo names and sizes and
   * the tile size, and memory-mapped from there. A cache file is reused when it is valid, was
   * written no earlier than the photos were last modified, and records the same folder and hash.
   */
  public static Splits prepare(Path folder, Path cacheDir, int tile) {
    Objects.requireNonNull(cacheDir, "cacheDir");
    if (tile < 1 || tile > 4096) {
      throw new IllegalArgumentException("tile " + tile + ": expected a tile size in 1..4096");
    }
    List<Path> photos = list(folder);
    String key = key(photos, tile);
    Path trainFile = cacheDir.resolve("photos-" + key + "-" + tile + "-train.arrow");
    Path testFile = cacheDir.resolve("photos-" + key + "-" + tile + "-test.arrow");
    String where = folder.toAbsolutePath().normalize().toString();
    List<Path> trainPhotos = photos.subList(0, photos.size() - TEST_PHOTOS);
    List<Path> testPhotos = photos.subList(photos.size() - TEST_PHOTOS, photos.size());
    String trainSource = source(where, key, "train", trainPhotos);
    String testSource = source(where, key, "test", testPhotos);
    ImageSet train = reuse(trainFile, trainSource, tile, photos);
    ImageSet test = train == null ? null : reuse(testFile, testSource, tile, photos);
    if (train != null && test != null) {
      return new Splits(train, test);
    }
    if (train != null) {
      train.close();
    }
    ArrowImageFile.write(
        trainFile, 3, tile, tile, tiles(trainPhotos, tile, "train"), null, 0, trainSource);
    ArrowImageFile.write(
        testFile, 3, tile, tile, tiles(testPhotos, tile, "test"), null, 0, testSource);
    train = ArrowImageFile.open(trainFile);
    try {
      return new Splits(train, ArrowImageFile.open(testFile));
    } catch (RuntimeException e) {
      train.close();
      throw e;
    }
  }

  private static String source(String folder, String key, String split, List<Path> photos) {
    return "photo tiles "
        + split
        + " of "
        + folder
        + " ("
        + key
        + "): "
        + String.join(", ", photos.stream().map(p -> p.getFileName().toString()).toList());
  }

  /** All tiles of {@code photos} in order, {@code [N, 3, tile, tile]} flattened. */
  private static byte[] tiles(List<Path> photos, int tile, String split) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (Path p : photos) {
      byte[] t = tilesOf(p, tile);
      all.writeBytes(t);
      LOG.log(
          Level.INFO,
          "photos: {0} {1}: {2} tiles",
          split,
          p.getFileName(),
          t.length / (3 * tile * tile));
    }
    if (all.size() == 0) {
      throw new DatasetException(
          photos.get(0).getParent(),
          "the "
              + split
              + " photos "
              + photos.stream().map(p -> p.getFileName().toString()).toList()
              + " give no "
              + tile
              + "x"
              + tile
              + " tiles: each is smaller than "
              + (2 * tile)
              + " pixels across after halving; use larger photos or a smaller tile");
    }
    return all.toByteArray();
  }

  /** The tiles of one photo, {@code [N, 3, tile, tile]} flattened; empty if it is too small. */
  static byte[] tilesOf(Path photo, int tile) {
    ImageDecoder.Decoded d = ImageDecoder.decode(photo, false);
    byte[] half = boxDownsample2(d.rgb(), d.height(), d.width(), 3);
    return cutTiles(half, d.height() / 2, d.width() / 2, 3, tile);
  }

  /**
   * {@code [h, w, c]} → {@code [h/2, w/2, c]}: the mean of each 2×2 block per channel, rounded half
   * to even (a mean of 2.5 gives 2, 3.5 gives 4); an odd last row or column is dropped. Integer
   * arithmetic: with sum = 4q + r the mean is q + r/4, rounded up for r = 3 and for r = 2 when q is
   * odd.
   */
  static byte[] boxDownsample2(byte[] hwc, int h, int w, int c) {
    if ((long) h * w * c != hwc.length) {
      throw new IllegalArgumentException(hwc.length + " bytes for " + h + "x" + w + "x" + c);
    }
    int oh = h / 2;
    int ow = w / 2;
    byte[] out = new byte[oh * ow * c];
    int stride = w * c;
    for (int y = 0; y < oh; y++) {
      int top = 2 * y * stride;
      int bottom = top + stride;
      for (int x = 0; x < ow; x++) {
        for (int k = 0; k < c; k++) {
          int i = 2 * x * c + k;
          int sum =
              (hwc[top + i] & 0xff)
                  + (hwc[top + i + c] & 0xff)
                  + (hwc[bottom + i] & 0xff)
                  + (hwc[bottom + i + c] & 0xff);
          int q = sum >> 2;
          int r = sum & 3;
          boolean up = r == 3 || (r == 2 && (q & 1) == 1);
          out[(y * ow + x) * c + k] = (byte) (q + (up ? 1 : 0));
        }
      }
    }
    return out;
  }

  /**
   * {@code [h, w, c]} → {@code [N, c, t, t]}: non-overlapping tiles from the top-left corner, left
   * to right, then top to bottom; partial tiles at the right and bottom edges dropped.
   */
  static byte[] cutTiles(byte[] hwc, int h, int w, int c, int t) {
    if ((long) h * w * c != hwc.length) {
      throw new IllegalArgumentException(hwc.length + " bytes for " + h + "x" + w + "x" + c);
    }
    int rows = h / t;
    int cols = w / t;
    byte[] out = new byte[rows * cols * c * t * t];
    int o = 0;
    for (int ty = 0; ty < rows; ty++) {
      for (int tx = 0; tx < cols; tx++) {
        for (int k = 0; k < c; k++) {
          for (int y = 0; y < t; y++) {
            int src = ((ty * t + y) * w + tx * t) * c + k;
            for (int x = 0; x < t; x++) {
              out[o++] = hwc[src + x * c];
            }
          }
        }
      }
    }
    return out;
  }

  /** A short hash of the rule, the tile size, and every photo's name and size. */
  static String key(List<Path> photos, int tile) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      StringBuilder s = new StringBuilder(RULE).append("\ntile=").append(tile).append('\n');
      for (Path p : photos) {
        s.append(p.getFileName()).append('\t').append(Files.size(p)).append('\n');
      }
      byte[] digest = sha.digest(s.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    } catch (IOException e) {
      throw new DatasetException(
          photos.get(0).getParent(), "cannot read the photos' sizes (" + e + ")", e);
    }
  }

  private static ImageSet reuse(Path cache, String source, int tile, List<Path> photos) {
    if (!Files.isRegularFile(cache)) {
      return null;
    }
    try {
      FileTime written = Files.getLastModifiedTime(cache);
      for (Path p : photos) {
        if (written.compareTo(Files.getLastModifiedTime(p)) < 0) {
          LOG.log(Level.INFO, "{0} is older than {1}: rebuilding it", cache, p);
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
        && set.channels() == 3
        && set.height() == tile
        && set.width() == tile
        && !set.hasLabels()) {
      LOG.log(Level.INFO, "photos: reusing {0}", set.describe());
      return set;
    }
    LOG.log(Level.INFO, "rebuilding {0}: it holds {1}", cache, set.describe());
    set.close();
    return null;
  }
}
