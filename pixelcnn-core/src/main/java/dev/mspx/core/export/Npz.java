package dev.mspx.core.export;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * NumPy's {@code .npy} and {@code .npz} formats, the subset mspx writes: little-endian {@code float32}
 * ({@code <f4}), {@code uint8} ({@code |u1}) and {@code int64} ({@code <i8}) arrays in C order, format
 * version 1.0, and an {@code .npz} as a zip of {@code NAME.npy} entries (what {@code numpy.savez} writes;
 * {@code numpy.load} reads it back as a mapping from NAME to array).
 *
 * <p>Why this format: the PyTorch peer reads it with numpy alone (no pyarrow there), and every tool of
 * the Python ecosystem reads it. The header follows the NEP-1 layout: magic {@code \x93NUMPY}, version
 * 1.0, a little-endian uint16 header length, then a Python dict literal padded with spaces and a final
 * newline so that the data starts at a multiple of 64 bytes.
 */
public final class Npz {

  private Npz() {}

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  /** One array: its dtype descriptor ({@code <f4}, {@code |u1}, {@code <i8}), shape and raw little-endian data. */
  public record Array(String descr, long[] shape, byte[] data) {

    public Array {
      shape = shape.clone();
      long n = 1;
      for (long d : shape) {
        if (d < 0) {
          throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
        }
        n *= d;
      }
      if (n * itemSize(descr) != data.length) {
        throw new IllegalArgumentException(
            "array of dtype " + descr + " and shape " + Arrays.toString(shape) + " needs " + n * itemSize(descr) + " bytes, got " + data.length);
      }
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    public long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }

    /** A float32 array of the given shape. */
    public static Array ofFloats(float[] values, long... shape) {
      ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(values);
      return new Array("<f4", shape, b.array());
    }

    /** A uint8 array of the given shape. */
    public static Array ofBytes(byte[] values, long... shape) {
      return new Array("|u1", shape, values.clone());
    }

    /** An int64 array of the given shape. */
    public static Array ofLongs(long[] values, long... shape) {
      ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
      b.asLongBuffer().put(values);
      return new Array("<i8", shape, b.array());
    }

    /** UTF-8 text as a one-dimensional uint8 array (numpy: {@code bytes(a).decode()}). */
    public static Array ofText(String text) {
      byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
      return new Array("|u1", new long[] {utf8.length}, utf8);
    }

    public float[] floats() {
      require("<f4");
      float[] v = new float[data.length / 4];
      ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
      return v;
    }

    public byte[] bytes() {
      require("|u1");
      return data.clone();
    }

    public long[] longs() {
      require("<i8");
      long[] v = new long[data.length / 8];
      ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
      return v;
    }

    public String text() {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    private void require(String want) {
      if (!descr.equals(want)) {
        throw new IllegalStateException("array is " + descr + ", not " + want);
      }
    }
  }

  static int itemSize(String descr) {
    return switch (descr) {
      case "<f4" -> 4;
      case "|u1" -> 1;
      case "<i8" -> 8;
      default -> throw new IllegalArgumentException("unsupported npy dtype " + descr + " (mspx reads <f4, |u1 and <i8)");
    };
  }

  /** The {@code .npy} bytes of one array. */
  public static byte[] npy(Array a) {
    StringBuilder shape = new StringBuilder("(");
    for (long d : a.shape) {
      shape.append(d).append(", ");
    }
    if (a.shape.length > 0) {
      shape.setLength(shape.length() - (a.shape.length == 1 ? 1 : 2)); // (3,) for one dimension, (2, 3) for more
    }
    shape.append(')');
    String dict = "{'descr': '" + a.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int padding = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(padding) + "\n";
    if (header.length() > 0xFFFF) {
      throw new IllegalArgumentException("npy header too long for format 1.0: " + header.length() + " bytes");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(MAGIC.length + 4 + header.length() + a.data.length);
    out.writeBytes(MAGIC);
    out.write(1);
    out.write(0);
    out.write(header.length() & 0xFF);
    out.write(header.length() >>> 8);
    out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(a.data);
    return out.toByteArray();
  }

  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  /** Parses {@code .npy} bytes (version 1.0 or 2.0, C order, a dtype of {@link Array}); {@code what} names it in errors. */
  public static Array parseNpy(byte[] bytes, String what) {
    if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
      throw new IllegalArgumentException(what + " is not a .npy array (no \\x93NUMPY magic)");
    }
    int major = bytes[6];
    int headerLength, start;
    if (major == 1) {
      headerLength = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
      start = 10;
    } else if (major == 2 || major == 3) {
      headerLength = ByteBuffer.wrap(bytes, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      start = 12;
    } else {
      throw new IllegalArgumentException(what + ": .npy format version " + major + " is not supported");
    }
    if (start + headerLength > bytes.length) {
      throw new IllegalArgumentException(what + ": .npy header runs past the end (" + bytes.length + " bytes)");
    }
    String header = new String(bytes, start, headerLength, StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw new IllegalArgumentException(what + ": unreadable .npy header " + header.strip());
    }
    if (f.group(1).equals("True")) {
      throw new IllegalArgumentException(what + ": Fortran-ordered arrays are not supported; save it with numpy.ascontiguousarray");
    }
    String descr = d.group(1);
    if (descr.equals("<u1") || descr.equals("u1")) {
      descr = "|u1";
    }
    String[] dims = s.group(1).split(",");
    long[] shape = Arrays.stream(dims).map(String::strip).filter(x -> !x.isEmpty()).mapToLong(Long::parseLong).toArray();
    byte[] data = Arrays.copyOfRange(bytes, start + headerLength, bytes.length);
    return new Array(descr, shape, data);
  }

  /** Writes {@code arrays} as an {@code .npz} (stored, not deflated: weights hardly compress), atomically. */
  public static void write(Path file, Map<String, Array> arrays) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
    try {
      try (OutputStream os = Files.newOutputStream(tmp)) {
        write(os, arrays);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Writes {@code arrays} as an {@code .npz} to a stream. */
  public static void write(OutputStream os, Map<String, Array> arrays) throws IOException {
    ZipOutputStream zip = new ZipOutputStream(os);
    for (Map.Entry<String, Array> e : arrays.entrySet()) {
      byte[] npy = npy(e.getValue());
      ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
      entry.setMethod(ZipEntry.STORED);
      entry.setSize(npy.length);
      entry.setCompressedSize(npy.length);
      java.util.zip.CRC32 crc = new java.util.zip.CRC32();
      crc.update(npy);
      entry.setCrc(crc.getValue());
      entry.setTime(0); // reproducible bytes: the same model exports to the same file
      zip.putNextEntry(entry);
      zip.write(npy);
      zip.closeEntry();
    }
    zip.finish();
  }

  /** Reads every array of an {@code .npz}, in the file's order. */
  public static Map<String, Array> read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    }
  }

  static Map<String, Array> read(InputStream in, String what) throws IOException {
    Map<String, Array> out = new LinkedHashMap<>();
    ZipInputStream zip = new ZipInputStream(in);
    for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
      String name = e.getName();
      if (!name.endsWith(".npy")) {
        throw new IllegalArgumentException(what + ": entry " + name + " is not a .npy array");
      }
      String key = name.substring(0, name.length() - 4);
      out.put(key, parseNpy(zip.readAllBytes(), what + ":" + name));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(what + " holds no arrays: it is not an .npz file");
    }
    return out;
  }
}
