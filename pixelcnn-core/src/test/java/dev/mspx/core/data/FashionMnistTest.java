package dev.mspx.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

  @TempDir Path data;
  @TempDir Path cache;

  private static final int PIXELS = 28 * 28;

  /** Fake Fashion-MNIST: image i has every pixel (seed + i) % 256 and label (seed + i) % 10. */
  static void writeFake(Path dir, int train, int test, int seed) throws IOException {
    Files.createDirectories(dir);
    writeSplit(dir, "train", train, seed);
    writeSplit(dir, "t10k", test, seed + 1);
  }

  private static void writeSplit(Path dir, String split, int n, int seed) throws IOException {
    byte[] images = new byte[n * PIXELS];
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      Arrays.fill(images, i * PIXELS, (i + 1) * PIXELS, (byte) ((seed + i) % 256));
      labels[i] = (byte) ((seed + i) % 10);
    }
    IdxFileTest.writeGz(
        dir.resolve(split + "-images-idx3-ubyte.gz"), new int[] {n, 28, 28}, images);
    IdxFileTest.writeGz(dir.resolve(split + "-labels-idx1-ubyte.gz"), new int[] {n}, labels);
  }

  @Test
  void preparesBothSplitsWithLabels() throws IOException {
    writeFake(data, 6, 4, 100);
    try (Splits s = FashionMnist.prepare(data, cache, 6, 4);
        HostMemory host = HostMemory.create("test");
        HostTensor images = host.allocate(Shape.nchw(2, 1, 28, 28), DType.UINT8, "images");
        HostTensor labels = host.allocate(Shape.of(2), DType.INT32, "labels")) {
      assertEquals(6, s.train().size());
      assertEquals(4, s.test().size());
      assertEquals(1, s.train().channels());
      assertEquals(28, s.train().height());
      assertEquals(10, s.train().classes());
      s.train().gather(new int[] {5, 1}, images);
      s.train().gatherLabels(new int[] {5, 1}, labels);
      assertEquals(105, images.getUnsignedByte(0));
      assertEquals(105, images.getUnsignedByte(PIXELS - 1));
      assertEquals(101, images.getUnsignedByte(PIXELS));
      assertArrayEquals(new int[] {5, 1}, labels.toIntArray());
      assertEquals(101 % 10, s.test().label(0));
      assertTrue(Files.isRegularFile(cache.resolve(FashionMnist.TRAIN_FILE)));
      assertTrue(Files.isRegularFile(cache.resolve(FashionMnist.TEST_FILE)));
      assertTrue(s.train().source().contains("train-images-idx3-ubyte.gz"));
    }
  }

  @Test
  void findsFilesInSubFoldersAndPlainOnes() throws IOException {
    Path nested = data.resolve("x/fashion");
    writeFake(nested, 2, 2, 0);
    // A plain (not gzipped) copy in another sub-folder that sorts first wins for that file.
    Files.createDirectories(data.resolve("a"));
    Files.write(
        data.resolve("a/t10k-labels-idx1-ubyte"),
        IdxFileTest.idx(0x08, new int[] {2}, new byte[] {7, 8}));
    FashionMnist.Sources s = FashionMnist.locate(data);
    assertEquals(nested.resolve("train-images-idx3-ubyte.gz"), s.trainImages());
    assertEquals(data.resolve("a/t10k-labels-idx1-ubyte"), s.testLabels());
    try (Splits splits = FashionMnist.prepare(data, cache, 2, 2)) {
      assertEquals(7, splits.test().label(0));
    }
  }

  @Test
  void missingFilesNameWhatWasLookedForAndHowToGetIt() throws IOException {
    IdxFileTest.writeGz(
        data.resolve("train-images-idx3-ubyte.gz"), new int[] {1, 28, 28}, new byte[PIXELS]);
    DatasetException e = assertThrows(DatasetException.class, () -> FashionMnist.locate(data));
    String m = e.getMessage();
    assertTrue(m.contains("looked under " + data.toAbsolutePath()), m);
    assertTrue(m.contains("train-labels-idx1-ubyte.gz"), m);
    assertTrue(m.contains("t10k-images-idx3-ubyte.gz"), m);
    assertFalse(m.contains("for train-images-idx3-ubyte.gz"), "found files are not listed: " + m);
    assertTrue(m.contains("apt-get install dataset-fashion-mnist"), m);
    assertTrue(m.contains("--data DIR"), m);
    assertFalse(FashionMnist.isPresent(data));
  }

  @Test
  void countsOtherThanFashionMnistsAreRefused() throws IOException {
    writeFake(data, 5, 3, 0);
    DatasetException e =
        assertThrows(DatasetException.class, () -> FashionMnist.prepare(data, cache));
    assertTrue(e.getMessage().contains("holds 5 images"), e.getMessage());
    assertTrue(e.getMessage().contains("the train split has 60000"), e.getMessage());
  }

  @Test
  void wrongDimensionsAndLabelsAreRefused() throws IOException {
    writeFake(data, 2, 2, 0);
    IdxFileTest.writeGz(
        data.resolve("train-images-idx3-ubyte.gz"), new int[] {2, 27, 28}, new byte[2 * 27 * 28]);
    DatasetException e =
        assertThrows(DatasetException.class, () -> FashionMnist.prepare(data, cache, 2, 2));
    assertTrue(e.getMessage().contains("dimensions [2, 27, 28]"), e.getMessage());

    writeFake(data, 2, 2, 0);
    IdxFileTest.writeGz(
        data.resolve("train-labels-idx1-ubyte.gz"), new int[] {2}, new byte[] {3, 10});
    DatasetException l =
        assertThrows(DatasetException.class, () -> FashionMnist.prepare(data, cache, 2, 2));
    assertTrue(
        l.getMessage().contains("label 1 (byte 9 of the decompressed stream) is 10"),
        l.getMessage());
  }

  @Test
  void reusesAValidCacheAndRebuildsAStaleOrDamagedOne() throws IOException {
    writeFake(data, 3, 2, 0);
    FashionMnist.prepare(data, cache, 3, 2).close();
    Path train = cache.resolve(FashionMnist.TRAIN_FILE);
    FileTime old = FileTime.fromMillis(Files.getLastModifiedTime(train).toMillis() - 3_600_000);
    Files.setLastModifiedTime(train, old);
    for (String n : FashionMnist.NAMES) {
      Files.setLastModifiedTime(
          data.resolve(n + ".gz"), FileTime.fromMillis(old.toMillis() - 1000));
    }
    FashionMnist.prepare(data, cache, 3, 2).close();
    assertEquals(old, Files.getLastModifiedTime(train), "reused");

    // Sources newer than the cache: rebuilt.
    Files.setLastModifiedTime(
        data.resolve("train-images-idx3-ubyte.gz"), FileTime.fromMillis(old.toMillis() + 1000));
    FashionMnist.prepare(data, cache, 3, 2).close();
    assertNotEquals(old, Files.getLastModifiedTime(train), "rebuilt");

    // A damaged cache: rebuilt without complaint.
    byte[] b = Files.readAllBytes(train);
    Files.write(train, Arrays.copyOf(b, b.length - 20));
    try (Splits s = FashionMnist.prepare(data, cache, 3, 2)) {
      assertEquals(3, s.train().size());
    }

    // The same cache folder for another data folder: rebuilt from that one.
    Path other = data.resolve("other");
    writeFake(other, 3, 2, 50);
    try (Splits s = FashionMnist.prepare(other, cache, 3, 2);
        HostMemory host = HostMemory.create("test");
        HostTensor v = s.train().view(0, 1, host)) {
      assertEquals(50, v.getUnsignedByte(0));
    }
  }
}
