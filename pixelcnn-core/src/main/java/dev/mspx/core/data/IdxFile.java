package dev.mspx.core.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * An IDX file (the MNIST format), gzipped or not: bytes {@code 00 00}, a type code ({@code 08} =
 * uint8, the only one read here), the number of dimensions, the dimensions as big-endian uint32,
 * then the data, row-major, and nothing after it. Whether the file is gzipped is told by its first
 * two bytes ({@code 1f 8b}), not by its name.
 */
public final class IdxFile {

  private static final int GZIP_MAGIC_0 = 0x1f;
  private static final int GZIP_MAGIC_1 = 0x8b;

  private final Path path;
  private final int[] dims;
  private final byte[] data;

  private IdxFile(Path path, int[] dims, byte[] data) {
    this.path = path;
    this.dims = dims;
    this.data = data;
  }

  /** The file it was read from. */
  public Path path() {
    return path;
  }

  /** The dimensions, outermost first (a copy). */
  public int[] dims() {
    return dims.clone();
  }

  /** The first dimension: the number of items (images, labels). */
  public int count() {
    return dims[0];
  }

  /** The data, row-major: the array itself, not a copy (it can be tens of megabytes). */
  public byte[] data() {
    return data;
  }

  /**
   * Reads a uint8 IDX file.
   *
   * @throws DatasetException naming the file for a missing file, a bad header, a type other than
   *     uint8, data shorter or longer than the header says (with the offset in the decompressed
   *     stream where it ended), or a damaged gzip stream
   */
  public static IdxFile read(Path path) {
    Objects.requireNonNull(path, "path");
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
      raw.mark(2);
      boolean gzipped = raw.read() == GZIP_MAGIC_0 && raw.read() == GZIP_MAGIC_1;
      raw.reset();
      String stream = gzipped ? "decompressed stream" : "file";
      Counting in;
      try {
        in = new Counting(gzipped ? new GZIPInputStream(raw, 1 << 16) : raw);
      } catch (IOException e) {
        throw new DatasetException(
            path, path + ": corrupt gzip header (" + e.getMessage() + ")" + REINSTALL, e);
      }
      try {
        return parse(path, in, stream);
      } catch (ZipException | EOFException e) {
        // Thrown by the inflater only: the compressed bytes, not the IDX data, are damaged.
        throw new DatasetException(
            path,
            path
                + ": corrupt gzip data after "
                + in.count
                + " bytes of decompressed stream ("
                + e.getMessage()
                + ")"
                + REINSTALL,
            e);
      }
    } catch (NoSuchFileException e) {
      throw new DatasetException(path, path + ": no such file", e);
    } catch (IOException e) {
      throw new DatasetException(path, path + ": cannot read it (" + e + ")", e);
    }
  }

  private static final String REINSTALL =
      "; the file is damaged: download or reinstall it (Fashion-MNIST: apt-get install --reinstall"
          + " dataset-fashion-mnist)";

  private static IdxFile parse(Path path, Counting in, String stream) throws IOException {
    byte[] head = new byte[4];
    int got = in.readNBytes(head, 0, 4);
    if (got < 4) {
      throw new DatasetException(
          path,
          path
              + ": the "
              + stream
              + " ends at byte "
              + got
              + " inside the 4-byte IDX header"
              + REINSTALL);
    }
    if (head[0] != 0 || head[1] != 0) {
      throw new DatasetException(
          path,
          path
              + ": not an IDX file: bytes 0-1 of the "
              + stream
              + " are "
              + hex(head, 2)
              + ", expected 00 00 (an IDX file starts 00 00 08 for uint8 data)");
    }
    int type = head[2] & 0xff;
    if (type != 0x08) {
      throw new DatasetException(
          path,
          path
              + ": IDX type code 0x"
              + String.format("%02x", type)
              + " ("
              + typeName(type)
              + ") at byte 2; only uint8 (0x08) images and labels are read");
    }
    int ndim = head[3] & 0xff;
    if (ndim == 0) {
      throw new DatasetException(
          path, path + ": the IDX header declares 0 dimensions (byte 3); expected at least 1");
    }
    byte[] dimBytes = new byte[4 * ndim];
    got = in.readNBytes(dimBytes, 0, dimBytes.length);
    long headerBytes = 4L + dimBytes.length;
    if (got < dimBytes.length) {
      throw new DatasetException(
          path,
          path
              + ": the "
              + stream
              + " ends at byte "
              + (4 + got)
              + " inside the dimensions; the header declares "
              + ndim
              + " dimensions ("
              + headerBytes
              + " header bytes)"
              + REINSTALL);
    }
    long[] declared = new long[ndim];
    for (int i = 0; i < ndim; i++) {
      declared[i] =
          ((dimBytes[4 * i] & 0xffL) << 24)
              | ((dimBytes[4 * i + 1] & 0xffL) << 16)
              | ((dimBytes[4 * i + 2] & 0xffL) << 8)
              | (dimBytes[4 * i + 3] & 0xffL);
    }
    int[] dims = new int[ndim];
    long elements = 1;
    for (int i = 0; i < ndim; i++) {
      if (declared[i] == 0) {
        throw new DatasetException(
            path,
            path + ": dimension " + i + " is 0 (at byte " + (4 + 4 * i) + "); the file is empty");
      }
      elements *= declared[i];
      if (elements > Integer.MAX_VALUE - 8) {
        throw new DatasetException(
            path,
            path
                + ": dimensions "
                + Arrays.toString(declared)
                + " make more than 2^31 bytes; too large for one array");
      }
      dims[i] = (int) declared[i];
    }
    byte[] data = new byte[(int) elements];
    got = in.readNBytes(data, 0, data.length);
    if (got < data.length) {
      throw new DatasetException(
          path,
          path
              + ": truncated: the "
              + stream
              + " ends at byte "
              + (headerBytes + got)
              + "; dimensions "
              + Arrays.toString(dims)
              + " need "
              + elements
              + " data bytes after the "
              + headerBytes
              + "-byte header ("
              + (headerBytes + elements)
              + " in all), got "
              + got
              + REINSTALL);
    }
    if (in.read() != -1) {
      throw new DatasetException(
          path,
          path
              + ": more bytes after the data, from byte "
              + (headerBytes + elements)
              + " of the "
              + stream
              + "; dimensions "
              + Arrays.toString(dims)
              + " account for "
              + (headerBytes + elements)
              + " bytes (not an IDX file of these dimensions)");
    }
    return new IdxFile(path, dims, data);
  }

  private static String typeName(int code) {
    return switch (code) {
      case 0x09 -> "int8";
      case 0x0B -> "int16";
      case 0x0C -> "int32";
      case 0x0D -> "float32";
      case 0x0E -> "float64";
      default -> "not an IDX type";
    };
  }

  private static String hex(byte[] b, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xff));
    }
    return s.toString();
  }

  /** Counts bytes read, so that errors can say where in the decompressed stream they happened. */
  private static final class Counting extends FilterInputStream {
    long count;

    Counting(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long k = super.skip(n);
      count += k;
      return k;
    }
  }
}
