package dev.mspx.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngFolderTest {

  @TempDir Path dir;

  @Test
  void loadsExactlyThePngFilesInNameOrderAsChw() throws IOException {
    TestImages.rgbPng(dir.resolve("b.png"), 3, 2, (x, y, c) -> 100 * c + 10 * y + x);
    TestImages.rgbPng(dir.resolve("A.PNG"), 3, 2, (x, y, c) -> 1);
    TestImages.greyJpeg(dir.resolve("c.jpg"), 3, 2, 9);
    Files.writeString(dir.resolve("readme.txt"), "ignored");
    try (PngFolder set = PngFolder.load(dir, 3, 2, 3);
        HostMemory host = HostMemory.create("test");
        HostTensor v = set.view(0, 2, host)) {
      assertEquals(
          List.of("A.PNG", "b.png"),
          set.files().stream().map(p -> p.getFileName().toString()).toList());
      assertEquals(2, set.size());
      assertFalse(set.hasLabels());
      assertEquals(1, v.getUnsignedByte(0));
      // Image 1 channel c, row y, column x.
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < 2; y++) {
          for (int x = 0; x < 3; x++) {
            assertEquals(100 * c + 10 * y + x, v.getUnsignedByte(18 + (c * 2 + y) * 3 + x));
          }
        }
      }
    }
  }

  @Test
  void greyPngsForOneChannelModels() {
    TestImages.greyPng(dir.resolve("g.png"), 4, 4, (x, y, c) -> x + 4 * y);
    try (PngFolder set = PngFolder.load(dir, 1, 4, 4);
        HostMemory host = HostMemory.create("test");
        HostTensor v = set.view(0, 1, host)) {
      for (int i = 0; i < 16; i++) {
        assertEquals(i, v.getUnsignedByte(i));
      }
    }
  }

  @Test
  void everyFileThatDoesNotFitIsListedWithWhatItHas() {
    TestImages.rgbPng(dir.resolve("ok.png"), 4, 4, (x, y, c) -> 0);
    TestImages.rgbPng(dir.resolve("small.png"), 3, 4, (x, y, c) -> 0);
    TestImages.greyPng(dir.resolve("grey.png"), 4, 4, (x, y, c) -> 0);
    TestImages.rgbaPng(dir.resolve("alpha.png"), 4, 4, (x, y, c) -> 0);
    DatasetException e = assertThrows(DatasetException.class, () -> PngFolder.load(dir, 3, 4, 4));
    String m = e.getMessage();
    assertTrue(m.contains("3 of 4 PNG files do not fit"), m);
    assertTrue(m.contains("4x4 RGB (3 channels) without alpha"), m);
    assertTrue(m.contains("small.png is 3x4 RGB (3 channels)"), m);
    assertTrue(m.contains("grey.png is 4x4 grey (1 channels)"), m);
    assertTrue(m.contains("alpha.png is 4x4 RGB+alpha (4 channels)"), m);
    assertFalse(m.contains("ok.png"), m);
  }

  @Test
  void aFolderWithoutPngsAndNonPngContentAreRefused() throws IOException {
    DatasetException empty =
        assertThrows(DatasetException.class, () -> PngFolder.load(dir, 1, 4, 4));
    assertTrue(empty.getMessage().contains("no .png files directly in it"), empty.getMessage());
    TestImages.greyJpeg(dir.resolve("fake.png"), 4, 4, 0);
    DatasetException jpeg =
        assertThrows(DatasetException.class, () -> PngFolder.load(dir, 1, 4, 4));
    assertTrue(
        jpeg.getMessage().contains("fake.png: named .png but its content is JPEG"),
        jpeg.getMessage());
    DatasetException missing =
        assertThrows(DatasetException.class, () -> PngFolder.load(dir.resolve("no"), 1, 4, 4));
    assertTrue(missing.getMessage().contains("no such folder"), missing.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PngFolder.load(dir, 2, 4, 4));
  }
}
