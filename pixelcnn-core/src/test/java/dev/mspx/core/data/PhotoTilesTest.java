package dev.mspx.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PhotoTilesTest {

  @TempDir Path dir;
  @TempDir Path cache;

  private static final int T = 4;

  @Test
  void downsamplingRoundsHalvesToEven() {
    // One 2x2 block per call: the mean of four levels.
    assertEquals(2, mean(2, 3, 2, 3)); // 2.5 -> 2
    assertEquals(4, mean(3, 4, 3, 4)); // 3.5 -> 4
    assertEquals(1, mean(1, 2, 2, 0)); // 1.25 -> 1
    assertEquals(1, mean(0, 0, 0, 3)); // 0.75 -> 1
    assertEquals(255, mean(255, 255, 255, 255));
    // Every possible sum against Math.rint, which rounds half to even.
    for (int s = 0; s <= 4 * 255; s++) {
      int a = Math.min(255, s);
      int b = Math.min(255, s - a);
      int c = Math.min(255, s - a - b);
      int d = s - a - b - c;
      assertEquals((int) Math.rint(s / 4.0), mean(a, b, c, d), "sum " + s);
    }
  }

  private static int mean(int a, int b, int c, int d) {
    byte[] img = {(byte) a, (byte) b, (byte) c, (byte) d};
    return PhotoTiles.boxDownsample2(img, 2, 2, 1)[0] & 0xff;
  }

  @Test
  void downsamplingWorksPerChannelAndDropsAnOddLastRowAndColumn() {
    int h = 5;
    int w = 7;
    int c = 3;
    byte[] img = new byte[h * w * c];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int k = 0; k < c; k++) {
          boolean edge = y == h - 1 || x == w - 1;
          img[(y * w + x) * c + k] = (byte) (edge ? 255 : 10 * k + (x / 2) + 4 * (y / 2));
        }
      }
    }
    byte[] half = PhotoTiles.boxDownsample2(img, h, w, c);
    assertEquals(2 * 3 * 3, half.length);
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        for (int k = 0; k < c; k++) {
          assertEquals(10 * k + x + 4 * y, half[(y * 3 + x) * c + k]);
        }
      }
    }
  }

  @Test
  void tilesGoLeftToRightThenTopToBottomChannelMajor() {
    int h = 2 * T + 1;
    int w = 3 * T + 2;
    int c = 3;
    byte[] img = new byte[h * w * c];
    for (int i = 0; i < img.length; i++) {
      img[i] = (byte) (i * 31 + 7);
    }
    byte[] tiles = PhotoTiles.cutTiles(img, h, w, c, T);
    assertEquals(6 * c * T * T, tiles.length, "2 rows x 3 columns, partial tiles dropped");
    int o = 0;
    for (int ty = 0; ty < 2; ty++) {
      for (int tx = 0; tx < 3; tx++) {
        for (int k = 0; k < c; k++) {
          for (int y = 0; y < T; y++) {
            for (int x = 0; x < T; x++) {
              assertEquals(img[((ty * T + y) * w + tx * T + x) * c + k], tiles[o++]);
            }
          }
        }
      }
    }
  }

  /** Level of photo {@code k} at half resolution: 2x2 blocks of the full photo share it. */
  private static int half(int k, int x, int y, int c) {
    return (k * 50 + x * 3 + y * 7 + c * 11) % 256;
  }

  private static TestImages.Pixel photo(int k, int width, int height, boolean grey) {
    return (x, y, c) -> {
      if (c == 3) {
        return (x * 37 + y * 11) % 256; // alpha: must be ignored
      }
      if (x >= width / 2 * 2 || y >= height / 2 * 2) {
        return 255 - (x + y) % 7; // an odd last row or column: must be dropped
      }
      return half(k, x / 2, y / 2, grey ? 0 : c);
    };
  }

  /** Five photos (sorted: B, a, c, d, e) and files that are not photos. */
  private void makeFolder() throws IOException {
    TestImages.rgbPng(dir.resolve("B.png"), 19, 9, photo(0, 19, 9, false));
    TestImages.rgbaPng(dir.resolve("a.png"), 8, 17, photo(1, 8, 17, false));
    TestImages.greyPng(dir.resolve("c.PNG"), 16, 8, photo(2, 16, 8, true));
    TestImages.greyJpeg(dir.resolve("d.jpeg"), 8, 8, 128);
    TestImages.rgbPng(dir.resolve("e.png"), 10, 10, photo(4, 10, 10, false));
    Files.writeString(dir.resolve("notes.txt"), "not a photo");
    Files.writeString(dir.resolve("f.png.bak"), "not a photo either");
    Files.createDirectory(dir.resolve("sub.png"));
    Files.createDirectory(dir.resolve("sub"));
    TestImages.rgbPng(dir.resolve("sub/z.png"), 8, 8, (x, y, c) -> 0);
  }

  @Test
  void listsPhotosByCodePointIgnoringOtherFiles() throws IOException {
    makeFolder();
    List<String> names =
        PhotoTiles.list(dir).stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(List.of("B.png", "a.png", "c.PNG", "d.jpeg", "e.png"), names);
  }

  @Test
  void preparesTilesPhotoByPhotoWithTheLastThreeAsTest() throws IOException {
    makeFolder();
    try (Splits s = PhotoTiles.prepare(dir, cache, T);
        HostMemory host = HostMemory.create("test")) {
      // B: 19x9 -> 9x4 -> 2 tiles; a: 8x17 -> 4x8 -> 2 tiles; c: 16x8 -> 8x4 -> 2 tiles;
      // d: 8x8 -> 4x4 -> 1 tile; e: 10x10 -> 5x5 -> 1 tile.
      assertEquals(4, s.train().size());
      assertEquals(4, s.test().size());
      assertEquals(3, s.train().channels());
      assertEquals(T, s.train().height());
      assertFalse(s.train().hasLabels());
      try (HostTensor train = s.train().view(0, 4, host);
          HostTensor test = s.test().view(0, 4, host)) {
        byte[] tr = train.toByteArray();
        byte[] te = test.toByteArray();
        assertTile(tr, 0, 0, 0, 0, false);
        assertTile(tr, 1, 0, 1, 0, false);
        assertTile(tr, 2, 1, 0, 0, false);
        assertTile(tr, 3, 1, 0, 1, false);
        assertTile(te, 0, 2, 0, 0, true);
        assertTile(te, 1, 2, 1, 0, true);
        for (int i = 2 * 3 * T * T; i < 3 * 3 * T * T; i++) {
          assertEquals(128, te[i] & 0xff, "uniform grey JPEG, replicated to RGB");
        }
        assertTile(te, 3, 4, 0, 0, false);
      }
      assertTrue(s.train().source().contains("B.png, a.png"), s.train().source());
      assertEquals(0, host.outstandingBytes());
    }
  }

  /** Tile {@code index} of {@code tiles} is tile (tx, ty) of photo k at half resolution. */
  private static void assertTile(byte[] tiles, int index, int k, int tx, int ty, boolean grey) {
    int o = index * 3 * T * T;
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < T; y++) {
        for (int x = 0; x < T; x++) {
          int expected = half(k, tx * T + x, ty * T + y, grey ? 0 : c);
          assertEquals(
              expected,
              tiles[o + (c * T + y) * T + x] & 0xff,
              "tile " + index + " channel " + c + " at " + x + "," + y);
        }
      }
    }
  }

  @Test
  void reusesTheCacheAndRebuildsItWhenPhotosChange() throws IOException {
    makeFolder();
    PhotoTiles.prepare(dir, cache, T).close();
    List<Path> files;
    try (Stream<Path> s = Files.list(cache)) {
      files = s.sorted().toList();
    }
    assertEquals(2, files.size());
    assertTrue(
        files.get(1).getFileName().toString().matches("photos-[0-9a-f]{16}-4-train\\.arrow"));
    FileTime written = Files.getLastModifiedTime(files.get(1));
    // Pretend the cache was written long ago: its timestamp then tells whether it was rewritten.
    FileTime old = FileTime.fromMillis(written.toMillis() - 3_600_000);
    for (Path f : files) {
      Files.setLastModifiedTime(f, old);
    }
    for (Path p : PhotoTiles.list(dir)) {
      Files.setLastModifiedTime(p, FileTime.fromMillis(old.toMillis() - 1000));
    }
    PhotoTiles.prepare(dir, cache, T).close();
    assertEquals(old, Files.getLastModifiedTime(files.get(1)), "reused, not rewritten");

    // A photo modified after the cache was written: rebuilt.
    Files.setLastModifiedTime(dir.resolve("e.png"), FileTime.fromMillis(old.toMillis() + 1000));
    PhotoTiles.prepare(dir, cache, T).close();
    assertNotEquals(old, Files.getLastModifiedTime(files.get(1)), "rebuilt");

    // A damaged cache file: rebuilt, not refused.
    byte[] b = Files.readAllBytes(files.get(1));
    Files.write(files.get(1), Arrays.copyOf(b, b.length / 2));
    try (Splits s = PhotoTiles.prepare(dir, cache, T)) {
      assertEquals(4, s.train().size());
    }

    // Another photo set (a size changed): other cache files.
    TestImages.rgbPng(dir.resolve("e.png"), 12, 10, photo(4, 12, 10, false));
    PhotoTiles.prepare(dir, cache, T).close();
    try (Stream<Path> s = Files.list(cache)) {
      assertEquals(4, s.count());
    }
  }

  @Test
  void tooFewPhotosAndAMissingFolderAreRefused() throws IOException {
    TestImages.rgbPng(dir.resolve("a.png"), 8, 8, (x, y, c) -> 0);
    TestImages.rgbPng(dir.resolve("b.png"), 8, 8, (x, y, c) -> 0);
    TestImages.rgbPng(dir.resolve("c.png"), 8, 8, (x, y, c) -> 0);
    DatasetException e =
        assertThrows(DatasetException.class, () -> PhotoTiles.prepare(dir, cache, T));
    assertTrue(e.getMessage().contains("3 photos"), e.getMessage());
    assertTrue(e.getMessage().contains("need more than 3"), e.getMessage());
    Path none = dir.resolve("none");
    DatasetException m =
        assertThrows(DatasetException.class, () -> PhotoTiles.prepare(none, cache, T));
    assertTrue(m.getMessage().contains("apt-get install lomiri-wallpapers-16.04"), m.getMessage());
  }

  @Test
  void aSplitWithoutTilesIsRefused() throws IOException {
    for (String name : List.of("a.png", "b.png", "c.png", "d.png")) {
      TestImages.rgbPng(dir.resolve(name), 7, 7, (x, y, c) -> 0);
    }
    DatasetException e =
        assertThrows(DatasetException.class, () -> PhotoTiles.prepare(dir, cache, T));
    assertTrue(e.getMessage().contains("give no 4x4 tiles"), e.getMessage());
  }

  @Test
  void undecodablePhotosAreRefusedByName() throws IOException {
    makeFolder();
    Path broken = dir.resolve("b0.png");
    Files.write(broken, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    DatasetException e =
        assertThrows(DatasetException.class, () -> PhotoTiles.prepare(dir, cache, T));
    assertTrue(e.getMessage().startsWith(broken + ": not a JPEG or PNG image"), e.getMessage());
    assertTrue(e.getMessage().contains("01 02 03 04"), e.getMessage());
    assertEquals(broken, e.file());
  }

  @Test
  void truncatedPngAndJpegAreRefusedByName() throws IOException {
    Path png = TestImages.rgbPng(dir.resolve("p.png"), 64, 64, (x, y, c) -> (x * y + c) % 256);
    byte[] b = Files.readAllBytes(png);
    Files.write(png, Arrays.copyOf(b, b.length / 2));
    DatasetException e = assertThrows(DatasetException.class, () -> PhotoTiles.tilesOf(png, T));
    assertTrue(e.getMessage().startsWith(png + ": cannot decode this PNG"), e.getMessage());
    assertTrue(e.getMessage().contains("the file is cut short"), e.getMessage());

    // Cut inside the entropy-coded data: Java's JPEG reader only warns ("Truncated File - Missing
    // EOI marker") and fills the rest with grey; the decoder refuses it, as PIL does.
    Path jpg =
        TestImages.rgbJpeg(dir.resolve("j.jpg"), 256, 256, (x, y, c) -> (x * x + y * 7 * c) % 256);
    byte[] j = Files.readAllBytes(jpg);
    Files.write(jpg, Arrays.copyOf(j, j.length * 2 / 3));
    DatasetException f = assertThrows(DatasetException.class, () -> PhotoTiles.tilesOf(jpg, T));
    assertTrue(f.getMessage().startsWith(jpg + ": damaged JPEG"), f.getMessage());
    assertTrue(f.getMessage().contains("Truncated File"), f.getMessage());
  }

  @Test
  void sixteenBitPhotosAreRefused() {
    Path p = TestImages.grey16Png(dir.resolve("deep.png"), 8, 8);
    DatasetException e = assertThrows(DatasetException.class, () -> PhotoTiles.tilesOf(p, T));
    assertTrue(e.getMessage().startsWith(p + ": 16 bits per sample"), e.getMessage());
    assertTrue(e.getMessage().contains("convert it to 8 bits"), e.getMessage());
  }

  @Test
  void greyPhotosAreReplicatedToRgbAndAlphaIsDropped() {
    Path grey = TestImages.greyPng(dir.resolve("g.png"), 8, 8, (x, y, c) -> 40 + x / 2);
    byte[] g = PhotoTiles.tilesOf(grey, T);
    Path rgba =
        TestImages.rgbaPng(dir.resolve("r.png"), 8, 8, (x, y, c) -> c == 3 ? 0 : 40 + x / 2);
    Path rgb = TestImages.rgbPng(dir.resolve("s.png"), 8, 8, (x, y, c) -> 40 + x / 2);
    // Fully transparent, yet the colour is kept as stored: alpha is dropped, not composited.
    assertArrayEquals(PhotoTiles.tilesOf(rgb, T), PhotoTiles.tilesOf(rgba, T));
    assertArrayEquals(PhotoTiles.tilesOf(rgb, T), g);
  }
}
