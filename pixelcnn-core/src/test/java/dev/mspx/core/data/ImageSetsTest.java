package dev.mspx.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageSetsTest {

  @TempDir Path dir;
  @TempDir Path cache;

  @Test
  void cacheFolderFollowsXdgAndCanBeOverridden() {
    assertEquals(Path.of("/x/cache/mspx"), ImageSets.cacheDir("/x/cache", "/home/u"));
    // The XDG specification says to ignore a relative XDG_CACHE_HOME.
    assertEquals(Path.of("/home/u/.cache/mspx"), ImageSets.cacheDir("relative", "/home/u"));
    assertEquals(Path.of("/home/u/.cache/mspx"), ImageSets.cacheDir(null, "/home/u"));
    String before = System.getProperty(ImageSets.CACHE_PROPERTY);
    try {
      System.setProperty(ImageSets.CACHE_PROPERTY, "/somewhere/else");
      assertEquals(Path.of("/somewhere/else"), ImageSets.defaultCacheDir());
    } finally {
      if (before == null) {
        System.clearProperty(ImageSets.CACHE_PROPERTY);
      } else {
        System.setProperty(ImageSets.CACHE_PROPERTY, before);
      }
    }
  }

  @Test
  void opensAPreparedPairFromEitherHalf() {
    ArrowImageFile.write(dir.resolve("mine-train.arrow"), 1, 2, 2, new byte[12], null, 0, "tr");
    ArrowImageFile.write(dir.resolve("mine-test.arrow"), 1, 2, 2, new byte[8], null, 0, "te");
    for (String name : new String[] {"mine-train.arrow", "mine-test.arrow"}) {
      try (Splits s = ImageSets.open(dir.resolve(name), cache, 1, 2)) {
        assertEquals(3, s.train().size());
        assertEquals(2, s.test().size());
      }
    }
    DatasetException shape =
        assertThrows(
            DatasetException.class,
            () -> ImageSets.open(dir.resolve("mine-train.arrow"), cache, 3, 2));
    assertTrue(shape.getMessage().contains("gives 1x2x2 images"), shape.getMessage());
    assertTrue(shape.getMessage().contains("the model needs 3x2x2"), shape.getMessage());
  }

  @Test
  void refusesAnUnpairedOrOddlyNamedArrowFile() {
    ArrowImageFile.write(dir.resolve("lone-train.arrow"), 1, 2, 2, new byte[4], null, 0, "x");
    DatasetException e =
        assertThrows(
            DatasetException.class,
            () -> ImageSets.open(dir.resolve("lone-train.arrow"), cache, 1, 2));
    assertTrue(e.getMessage().contains("lone-test.arrow is not beside it"), e.getMessage());
    ArrowImageFile.write(dir.resolve("single.arrow"), 1, 2, 2, new byte[4], null, 0, "x");
    DatasetException f =
        assertThrows(
            DatasetException.class, () -> ImageSets.open(dir.resolve("single.arrow"), cache, 1, 2));
    assertTrue(f.getMessage().contains("NAME-train.arrow"), f.getMessage());
  }

  @Test
  void aFolderOfPhotosBecomesTiles() throws IOException {
    for (String name : new String[] {"a.png", "b.png", "c.png", "d.png", "e.png"}) {
      TestImages.rgbPng(dir.resolve(name), 16, 16, (x, y, c) -> 7);
    }
    try (Splits s = ImageSets.open(dir, cache, 3, 8)) {
      assertEquals(2, s.train().size());
      assertEquals(3, s.test().size());
      assertEquals(7L * 5 * 3 * 64, ImageSets.levelSum(s.train()) + ImageSets.levelSum(s.test()));
    }
  }

  @Test
  void aFolderOfIdxFilesIsFashionMnist() throws IOException {
    FashionMnistTest.writeFake(dir.resolve("fm"), 2, 2, 0);
    // Dispatched to Fashion-MNIST, whose count check then refuses these small fakes.
    DatasetException e =
        assertThrows(DatasetException.class, () -> ImageSets.open(dir, cache, 1, 28));
    assertTrue(e.getMessage().contains("the train split has 60000"), e.getMessage());
  }

  @Test
  void anythingElseExplainsWhatDataIs() throws IOException {
    Files.writeString(dir.resolve("notes.txt"), "x");
    DatasetException e =
        assertThrows(DatasetException.class, () -> ImageSets.open(dir, cache, 1, 28));
    assertTrue(e.getMessage().contains("holds neither Fashion-MNIST nor photos"), e.getMessage());
    assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    DatasetException missing =
        assertThrows(
            DatasetException.class, () -> ImageSets.open(dir.resolve("nope"), cache, 1, 28));
    assertTrue(missing.getMessage().contains("no such file or folder"), missing.getMessage());
  }

  @Test
  void fromBytesValidatesAndCopies() {
    byte[] images = {1, 2, 3, 4, 5, 6, 7, 8};
    try (ImageSet set = ImageSets.fromBytes(1, 2, 2, images, new int[] {0, 2}, 3, "src");
        HostMemory host = HostMemory.create("test");
        HostTensor v = set.view(1, 1, host)) {
      images[4] = 99;
      assertEquals(5, v.getUnsignedByte(0), "the set holds a copy");
      assertEquals(2, set.label(1));
      assertEquals(36, ImageSets.levelSum(set));
    }
    var odd =
        assertThrows(
            IllegalArgumentException.class,
            () -> ImageSets.fromBytes(1, 2, 2, new byte[7], null, 0, "x"));
    assertTrue(odd.getMessage().contains("positive multiple of 4"), odd.getMessage());
    var label =
        assertThrows(
            IllegalArgumentException.class,
            () -> ImageSets.fromBytes(1, 2, 2, new byte[8], new int[] {0, 3}, 3, "x"));
    assertTrue(label.getMessage().contains("labels[1] = 3 is outside 0..2"), label.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> ImageSets.fromBytes(1, 2, 2, new byte[8], new int[] {0}, 3, "x"));
  }

  @Test
  void levelSumCountsEveryByteUnsigned() {
    byte[] images = new byte[3 * 1000 + 3 * 7];
    long expected = 0;
    for (int i = 0; i < images.length; i++) {
      images[i] = (byte) (i * 13);
      expected += (i * 13) & 0xff;
    }
    try (ImageSet set = ImageSets.fromBytes(3, 1, 1, images, null, 0, "x")) {
      assertEquals(expected, ImageSets.levelSum(set));
    }
  }

  @Test
  void splitsRefuseMismatchedShapesAndCloseBoth() {
    ImageSet a = ImageSets.fromBytes(1, 2, 2, new byte[4], null, 0, "a");
    ImageSet b = ImageSets.fromBytes(3, 2, 2, new byte[12], null, 0, "b");
    assertThrows(IllegalArgumentException.class, () -> new Splits(a, b));
    ImageSet c = ImageSets.fromBytes(1, 2, 2, new byte[4], null, 0, "c");
    new Splits(a, c).close();
    b.close();
    try (HostMemory host = HostMemory.create("test")) {
      assertThrows(IllegalStateException.class, () -> a.view(0, 1, host));
      assertThrows(IllegalStateException.class, () -> c.view(0, 1, host));
    }
  }
}
