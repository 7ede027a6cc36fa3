package dev.mspx.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {

  @TempDir Path dir;

  /** The IDX bytes of uint8 {@code data} with dimensions {@code dims}. */
  static byte[] idx(int typeCode, int[] dims, byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(0);
    out.write(typeCode);
    out.write(dims.length);
    for (int d : dims) {
      out.write(d >>> 24);
      out.write(d >>> 16);
      out.write(d >>> 8);
      out.write(d);
    }
    out.writeBytes(data);
    return out.toByteArray();
  }

  static byte[] gzip(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(raw);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out.toByteArray();
  }

  static Path writeGz(Path file, int[] dims, byte[] data) throws IOException {
    Files.write(file, gzip(idx(0x08, dims, data)));
    return file;
  }

  @Test
  void readsGzippedAndPlainFiles() throws IOException {
    byte[] data = new byte[2 * 3 * 4];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (200 + i);
    }
    IdxFile gz = IdxFile.read(writeGz(dir.resolve("a.gz"), new int[] {2, 3, 4}, data));
    assertArrayEquals(new int[] {2, 3, 4}, gz.dims());
    assertEquals(2, gz.count());
    assertArrayEquals(data, gz.data());
    // Whether a file is gzipped is told by its content, not its name.
    Path plain = dir.resolve("b.gz");
    Files.write(plain, idx(0x08, new int[] {24}, data));
    assertArrayEquals(data, IdxFile.read(plain).data());
  }

  @Test
  void truncatedDataNamesTheOffsetAndTheCounts() throws IOException {
    byte[] full = idx(0x08, new int[] {10, 5}, new byte[50]);
    Path f = dir.resolve("train-images-idx3-ubyte.gz");
    Files.write(f, gzip(Arrays.copyOf(full, 12 + 31)));
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.read(f));
    String m = e.getMessage();
    assertTrue(m.startsWith(f + ": truncated"), m);
    assertTrue(m.contains("decompressed stream ends at byte 43"), m);
    assertTrue(m.contains("need 50 data bytes after the 12-byte header (62 in all), got 31"), m);
    assertEquals(f, e.file());
  }

  @Test
  void truncatedHeaderAndDimensionsAreRefused() throws IOException {
    Path f = dir.resolve("h.gz");
    Files.write(f, gzip(new byte[] {0, 0, 8}));
    assertMessage(f, "ends at byte 3 inside the 4-byte IDX header");
    Files.write(f, gzip(Arrays.copyOf(idx(0x08, new int[] {1, 2, 3}, new byte[6]), 9)));
    assertMessage(f, "ends at byte 9 inside the dimensions; the header declares 3 dimensions");
  }

  @Test
  void badMagicAndTypeAreRefused() throws IOException {
    Path f = dir.resolve("m.gz");
    byte[] b = idx(0x08, new int[] {1}, new byte[1]);
    b[1] = 7;
    Files.write(f, gzip(b));
    assertMessage(f, "not an IDX file: bytes 0-1 of the decompressed stream are 00 07");
    Files.write(f, gzip(idx(0x0D, new int[] {1}, new byte[4])));
    assertMessage(f, "IDX type code 0x0d (float32) at byte 2; only uint8 (0x08)");
  }

  @Test
  void trailingBytesAreRefused() throws IOException {
    Path f = dir.resolve("t.gz");
    Files.write(f, gzip(idx(0x08, new int[] {2}, new byte[3])));
    assertMessage(f, "more bytes after the data, from byte 10 of the decompressed stream");
  }

  @Test
  void corruptGzipIsRefused() throws IOException {
    byte[] gz = gzip(idx(0x08, new int[] {100}, new byte[100]));
    Path cut = dir.resolve("cut.gz");
    Files.write(cut, Arrays.copyOf(gz, gz.length - 12));
    assertMessage(cut, "corrupt gzip data after");
    Path garbled = dir.resolve("garbled.gz");
    byte[] g = gz.clone();
    for (int i = 10; i < 16; i++) {
      g[i] = (byte) 0xff;
    }
    Files.write(garbled, g);
    assertMessage(garbled, "corrupt gzip");
    Path header = dir.resolve("header.gz");
    Files.write(header, Arrays.copyOf(gz, 5));
    assertMessage(header, "corrupt gzip header");
  }

  @Test
  void missingFileIsNamed() {
    Path f = dir.resolve("nope.gz");
    assertMessage(f, "no such file");
  }

  private static void assertMessage(Path f, String expected) {
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.read(f));
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
