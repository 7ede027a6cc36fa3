package dev.mspx.core.data;

import dev.mspx.api.DType;
import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryOwner;
import dev.mspx.api.Shape;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntUnaryOperator;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Images in an Arrow IPC file, served straight from a memory mapping.
 *
 * <p>Layout (format 1): one record batch with a column {@code image: FixedSizeBinary(C·H·W)} (one
 * image per row, channel-major, {@code uint8}) and optionally {@code label: Int(8 or 32, signed)},
 * no nulls, no compression; schema metadata {@code mspx.format=1}, {@code mspx.channels}, {@code
 * mspx.height}, {@code mspx.width}, {@code mspx.source} and, with labels, {@code mspx.classes}.
 *
 * <p>{@link #write} writes a temporary file beside the target and renames it into place atomically,
 * so the target name only ever holds a complete file. {@link #open} maps the whole file and locates
 * the image column's data buffer through the IPC footer and the record batch's metadata, checking
 * every offset and length against the file size before anything is read: a damaged file is refused
 * with the byte offset where it went wrong, never read past its end.
 */
public final class ArrowImageFile {

  /** The value of {@code mspx.format} this code writes and reads. */
  public static final String FORMAT = "1";

  static final String IMAGE = "image";
  static final String LABEL = "label";
  static final String KEY_FORMAT = "mspx.format";
  static final String KEY_CHANNELS = "mspx.channels";
  static final String KEY_HEIGHT = "mspx.height";
  static final String KEY_WIDTH = "mspx.width";
  static final String KEY_SOURCE = "mspx.source";
  static final String KEY_CLASSES = "mspx.classes";

  private static final byte[] MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);
  // Leading magic padded to 8 bytes; trailer = int32 footer length + magic.
  private static final int HEAD = 8;
  private static final int TRAILER = 4 + 6;
  private static final ValueLayout.OfInt INT_LE =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final int GATHER_CHUNK = 1024;
  private static final MemoryOwner WRITER =
      new MemoryOwner() {
        @Override
        public String name() {
          return "arrow-image-writer";
        }

        @Override
        public long outstandingBytes() {
          return 0;
        }
      };

  private ArrowImageFile() {}

  // ------------------------------------------------------------------------------------- writing

  /**
   * Writes every image of {@code images} (and its labels, if it has them) to {@code file},
   * replacing it atomically. {@code source} is recorded as {@code mspx.source}.
   */
  public static void write(Path file, ImageSet images, String source) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(images, "images");
    Objects.requireNonNull(source, "source");
    int n = images.size();
    if (n < 1) {
      throw new IllegalArgumentException(
          "write " + file + ": " + images.describe() + " holds no images; nothing to write");
    }
    writeAtomically(
        file,
        images.channels(),
        images.height(),
        images.width(),
        n,
        images.hasLabels() ? images.classes() : 0,
        source,
        data -> {
          int row = images.imageBytes();
          for (int from = 0; from < n; from += GATHER_CHUNK) {
            int k = Math.min(GATHER_CHUNK, n - from);
            int[] idx = new int[k];
            for (int i = 0; i < k; i++) {
              idx[i] = from + i;
            }
            // Gather straight into the Arrow vector's data buffer: no staging copy.
            try (HostTensor chunk =
                HostTensor.view(
                    data.asSlice((long) from * row, (long) k * row),
                    Shape.nchw(k, images.channels(), images.height(), images.width()),
                    DType.UINT8,
                    WRITER,
                    file.getFileName() + "[" + from + ", " + (from + k) + ")")) {
              images.gather(idx, chunk);
            }
          }
        },
        images.hasLabels() ? images::label : null);
  }

  /**
   * Writes {@code images} ({@code n·C·H·W} bytes, image after image, channel-major) with optional
   * {@code labels} (null for none; each in {@code 0..classes-1}) to {@code file}, replacing it
   * atomically.
   */
  public static void write(
      Path file,
      int channels,
      int height,
      int width,
      byte[] images,
      int[] labels,
      int classes,
      String source) {
    Objects.requireNonNull(file, "file");
    try (ImageSet set =
        ImageSets.fromBytes(channels, height, width, images, labels, classes, source)) {
      write(file, set, source);
    }
  }

  /** Fills the image column's data buffer ({@code n·C·H·W} bytes). */
  private interface Filler {
    void fill(MemorySegment data);
  }

  private static void writeAtomically(
      Path file,
      int channels,
      int height,
      int width,
      int n,
      int classes,
      String source,
      Filler images,
      IntUnaryOperator labelOf) {
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      // Same folder as the target, so the rename cannot cross file systems.
      tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
      readableByAll(tmp);
      writeFile(tmp, channels, height, width, n, classes, source, images, labelOf);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
    } catch (IOException e) {
      throw new DatasetException(
          target,
          "cannot write "
              + target
              + " ("
              + e
              + "); check that "
              + dir
              + " is writable and has space, or choose another cache folder",
          e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // Best effort: a stray temporary file is harmless and never read.
        }
      }
    }
  }

  /** Temporary files are private (0600); a data file is not secret, and a cache may be shared. */
  private static void readableByAll(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: keep its default permissions.
    }
  }

  private static void writeFile(
      Path tmp,
      int channels,
      int height,
      int width,
      int n,
      int classes,
      String source,
      Filler images,
      IntUnaryOperator labelOf)
      throws IOException {
    int row = Math.multiplyExact(Math.multiplyExact(channels, height), width);
    boolean wide = labelOf != null && classes > Byte.MAX_VALUE + 1;
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(KEY_FORMAT, FORMAT);
    meta.put(KEY_CHANNELS, Integer.toString(channels));
    meta.put(KEY_HEIGHT, Integer.toString(height));
    meta.put(KEY_WIDTH, Integer.toString(width));
    meta.put(KEY_SOURCE, source);
    Field imageField = Field.notNullable(IMAGE, new ArrowType.FixedSizeBinary(row));
    Field labelField = Field.notNullable(LABEL, new ArrowType.Int(wide ? 32 : 8, true));
    if (labelOf != null) {
      meta.put(KEY_CLASSES, Integer.toString(classes));
    }
    Schema schema =
        new Schema(labelOf == null ? List.of(imageField) : List.of(imageField, labelField), meta);
    try (BufferAllocator allocator = new RootAllocator(Long.MAX_VALUE);
        FixedSizeBinaryVector image = new FixedSizeBinaryVector(imageField, allocator);
        BaseFixedWidthVector label =
            labelOf == null
                ? null
                : wide
                    ? new IntVector(labelField, allocator)
                    : new TinyIntVector(labelField, allocator)) {
      image.allocateNew(n);
      MemorySegment data =
          MemorySegment.ofAddress(image.getDataBuffer().memoryAddress())
              .reinterpret((long) n * row);
      images.fill(data);
      markAllValid(image, n);
      image.setValueCount(n);
      List<FieldVector> vectors;
      if (label != null) {
        label.allocateNew(n);
        for (int i = 0; i < n; i++) {
          int v = labelOf.applyAsInt(i);
          if (label instanceof IntVector iv) {
            iv.set(i, v);
          } else {
            ((TinyIntVector) label).set(i, (byte) v);
          }
        }
        label.setValueCount(n);
        vectors = List.of(image, label);
      } else {
        vectors = List.of(image);
      }
      try (VectorSchemaRoot root = new VectorSchemaRoot(schema, vectors, n);
          FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE);
          ArrowFileWriter writer = new ArrowFileWriter(root, null, out)) {
        writer.start();
        writer.writeBatch();
        writer.end();
        // On disk before the rename makes it visible under the final name.
        out.force(true);
      }
    }
  }

  private static void markAllValid(FixedSizeBinaryVector v, int n) {
    v.getValidityBuffer().setOne(0L, (n + 7) / 8L);
  }

  // ------------------------------------------------------------------------------------- reading

  /**
   * Maps {@code file} and returns its images without copying them: {@link ImageSet#view} and {@link
   * ImageSet#gather} read the mapped data buffer. Close the set to unmap the file.
   *
   * @throws DatasetException when the file is missing, truncated, damaged or not in this layout;
   *     the message names the file and the byte offset where it went wrong
   */
  public static ImageSet open(Path file) {
    Objects.requireNonNull(file, "file");
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      throw new DatasetException(file, file + ": no such file; expected an mspx Arrow image file");
    } catch (IOException e) {
      throw new DatasetException(file, file + ": cannot read its size (" + e + ")", e);
    }
    if (size < HEAD + TRAILER) {
      throw corrupt(
          file,
          size,
          "the file is only "
              + size
              + " bytes, shorter than an Arrow IPC file's magic and trailer ("
              + (HEAD + TRAILER)
              + " bytes): it is truncated or empty");
    }
    Arena arena = Arena.ofShared();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      MemorySegment map = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
      ImageSet set = parse(file, channel, map, arena);
      arena = null;
      return set;
    } catch (IOException e) {
      throw new DatasetException(file, file + ": cannot read it (" + e + ")", e);
    } finally {
      if (arena != null) {
        arena.close();
      }
    }
  }

  private static ImageSet parse(Path file, FileChannel channel, MemorySegment map, Arena arena)
      throws IOException {
    long size = map.byteSize();
    checkMagic(file, map, 0, "start");
    checkMagic(file, map, size - MAGIC.length, "end (the trailer; a truncated file lacks it)");
    int footerLength = map.get(INT_LE, size - TRAILER);
    long footerStart = size - TRAILER - footerLength;
    if (footerLength <= 0 || footerStart < HEAD) {
      throw corrupt(
          file,
          size - TRAILER,
          "the footer length "
              + footerLength
              + " does not fit between the header (8 bytes) and the trailer of a "
              + size
              + "-byte file");
    }
    Schema schema;
    List<ArrowBlock> blocks;
    MessageMetadataResult message;
    // Arrow's reader parses the footer (schema and block list) and the batch's metadata message;
    // the body is never loaded through it: the images are read from the mapping.
    try (BufferAllocator allocator = new RootAllocator(Long.MAX_VALUE);
        ArrowFileReader reader = new ArrowFileReader(channel, allocator)) {
      try {
        schema = reader.getVectorSchemaRoot().getSchema();
        blocks = reader.getRecordBlocks();
        if (!reader.getDictionaryBlocks().isEmpty()) {
          throw corrupt(file, footerStart, "the footer lists dictionary batches; images have none");
        }
      } catch (IOException | RuntimeException e) {
        if (e instanceof DatasetException d) {
          throw d;
        }
        throw corrupt(file, footerStart, "the footer cannot be parsed (" + e + ")", e);
      }
      if (blocks.size() != 1) {
        throw corrupt(
            file,
            footerStart,
            "the footer lists " + blocks.size() + " record batches; an image file has exactly one");
      }
      ArrowBlock block = blocks.get(0);
      // Each part checked on its own first, so that a damaged huge length cannot overflow the sum.
      long end = block.getOffset() + block.getMetadataLength() + block.getBodyLength();
      if (block.getOffset() < HEAD
          || block.getOffset() > footerStart
          || block.getMetadataLength() < 8
          || block.getBodyLength() < 0
          || block.getBodyLength() > footerStart
          || end > footerStart) {
        throw corrupt(
            file,
            block.getOffset(),
            "the record batch claims bytes ["
                + block.getOffset()
                + ", "
                + end
                + ") but data may only lie in [8, "
                + footerStart
                + ") before the footer");
      }
      checkMessagePrefix(file, map, block);
      try {
        channel.position(block.getOffset());
        message = MessageSerializer.readMessage(new ReadChannel(channel));
      } catch (IOException | RuntimeException e) {
        throw corrupt(
            file, block.getOffset(), "the record batch's metadata cannot be parsed (" + e + ")", e);
      }
      if (message == null) {
        throw corrupt(file, block.getOffset(), "an end-of-stream marker where the batch should be");
      }
    }
    Layout layout = checkSchema(file, schema, footerStart);
    ArrowBlock block = blocks.get(0);
    if (message.getMessageLength() >= block.getMetadataLength()) {
      throw corrupt(
          file,
          block.getOffset(),
          "the batch's metadata message is "
              + message.getMessageLength()
              + " bytes, more than the "
              + block.getMetadataLength()
              + " the footer allows it");
    }
    try {
      return locate(file, map, arena, layout, block, message);
    } catch (DatasetException e) {
      throw e;
    } catch (RuntimeException e) {
      // A damaged flatbuffer shows as reads out of its bounds.
      throw corrupt(
          file, block.getOffset(), "the record batch's metadata is damaged (" + e + ")", e);
    }
  }

  /**
   * Checks the length prefix of the batch's metadata message against the footer's block before
   * Arrow reads it: Arrow would allocate whatever a damaged prefix claims, up to 2 GiB.
   */
  private static void checkMessagePrefix(Path file, MemorySegment map, ArrowBlock block) {
    long at = block.getOffset();
    int first = map.get(INT_LE, at);
    // Since Arrow 0.15 a message starts with the continuation marker -1, then its length.
    int prefix = first == -1 ? 8 : 4;
    int length = first == -1 ? map.get(INT_LE, at + 4) : first;
    if (length <= 0 || prefix + (long) length > block.getMetadataLength()) {
      throw corrupt(
          file,
          at,
          "the batch's metadata message claims "
              + length
              + " bytes; the footer gives it "
              + (block.getMetadataLength() - prefix));
    }
  }

  /** What the schema says: the image shape, and the label column if any. */
  private record Layout(
      int channels,
      int height,
      int width,
      String source,
      boolean labels,
      int labelBytes,
      int classes) {}

  private static Layout checkSchema(Path file, Schema schema, long at) {
    Map<String, String> meta = schema.getCustomMetadata();
    String format = meta == null ? null : meta.get(KEY_FORMAT);
    if (!FORMAT.equals(format)) {
      throw corrupt(
          file,
          at,
          "schema metadata "
              + KEY_FORMAT
              + " is "
              + (format == null ? "missing" : "'" + format + "'")
              + "; expected '"
              + FORMAT
              + "' (an Arrow file not written by mspx, or by another version)");
    }
    int c = positive(file, meta, KEY_CHANNELS, at);
    int h = positive(file, meta, KEY_HEIGHT, at);
    int w = positive(file, meta, KEY_WIDTH, at);
    String source = meta.get(KEY_SOURCE);
    if (source == null) {
      throw corrupt(file, at, "schema metadata " + KEY_SOURCE + " is missing");
    }
    List<Field> fields = schema.getFields();
    if (fields.isEmpty() || !fields.get(0).getName().equals(IMAGE) || fields.size() > 2) {
      throw corrupt(
          file,
          at,
          "the columns are "
              + fields.stream().map(f -> f.getName() + ": " + f.getType()).toList()
              + "; expected image: FixedSizeBinary(C*H*W) and optionally label: Int(8 or 32)");
    }
    if (!(fields.get(0).getType() instanceof ArrowType.FixedSizeBinary fsb)
        || (long) fsb.getByteWidth() != (long) c * h * w) {
      throw corrupt(
          file,
          at,
          "column image is "
              + fields.get(0).getType()
              + "; expected FixedSizeBinary("
              + ((long) c * h * w)
              + ") for "
              + c
              + "x"
              + h
              + "x"
              + w
              + " images (from the schema metadata)");
    }
    if (fields.size() == 1) {
      return new Layout(c, h, w, source, false, 0, 0);
    }
    Field label = fields.get(1);
    if (!label.getName().equals(LABEL)
        || !(label.getType() instanceof ArrowType.Int it)
        || !it.getIsSigned()
        || (it.getBitWidth() != 8 && it.getBitWidth() != 32)) {
      throw corrupt(
          file,
          at,
          "second column is "
              + label.getName()
              + ": "
              + label.getType()
              + "; expected label: Int(8, signed) or Int(32, signed)");
    }
    int classes = positive(file, meta, KEY_CLASSES, at);
    return new Layout(c, h, w, source, true, it.getBitWidth() / 8, classes);
  }

  private static int positive(Path file, Map<String, String> meta, String key, long at) {
    String v = meta.get(key);
    try {
      int x = Integer.parseInt(Objects.requireNonNull(v));
      if (x >= 1) {
        return x;
      }
    } catch (NumberFormatException | NullPointerException e) {
      // Reported below with the value found.
    }
    throw corrupt(
        file,
        at,
        "schema metadata "
            + key
            + " is "
            + (v == null ? "missing" : "'" + v + "'")
            + "; expected a positive integer");
  }

  private static ImageSet locate(
      Path file,
      MemorySegment map,
      Arena arena,
      Layout layout,
      ArrowBlock block,
      MessageMetadataResult message) {
    long at = block.getOffset();
    if (message.headerType() != MessageHeader.RecordBatch) {
      throw corrupt(
          file,
          at,
          "the block holds a "
              + MessageHeader.name(message.headerType())
              + " message; expected a RecordBatch");
    }
    RecordBatch batch = (RecordBatch) message.getMessage().header(new RecordBatch());
    if (batch == null) {
      throw corrupt(file, at, "the record batch message has no header");
    }
    if (batch.compression() != null) {
      throw corrupt(
          file, at, "the record batch is compressed; mspx maps images and needs them uncompressed");
    }
    if (message.getMessageBodyLength() != block.getBodyLength()) {
      throw corrupt(
          file,
          at,
          "the batch's body length "
              + message.getMessageBodyLength()
              + " differs from the footer's "
              + block.getBodyLength());
    }
    long rows = batch.length();
    if (rows < 1 || rows > Integer.MAX_VALUE) {
      throw corrupt(
          file, at, "the record batch has " + rows + " rows; expected 1.." + Integer.MAX_VALUE);
    }
    int columns = layout.labels() ? 2 : 1;
    if (batch.nodesLength() != columns || batch.buffersLength() != 2 * columns) {
      throw corrupt(
          file,
          at,
          "the record batch has "
              + batch.nodesLength()
              + " field nodes and "
              + batch.buffersLength()
              + " buffers; the schema's "
              + columns
              + " fixed-width columns need "
              + columns
              + " and "
              + (2 * columns));
    }
    for (int i = 0; i < columns; i++) {
      if (batch.nodes(i).length() != rows || batch.nodes(i).nullCount() != 0) {
        throw corrupt(
            file,
            at,
            "column "
                + (i == 0 ? IMAGE : LABEL)
                + " has "
                + batch.nodes(i).length()
                + " rows and "
                + batch.nodes(i).nullCount()
                + " nulls; expected "
                + rows
                + " rows and no nulls");
      }
    }
    long body = block.getOffset() + block.getMetadataLength();
    long row = (long) layout.channels() * layout.height() * layout.width();
    MemorySegment images =
        buffer(file, map, batch, 1, body, block.getBodyLength(), rows * row, IMAGE);
    MemorySegment labels = null;
    if (layout.labels()) {
      labels =
          buffer(
              file, map, batch, 3, body, block.getBodyLength(), rows * layout.labelBytes(), LABEL);
      checkLabels(file, map, labels, (int) rows, layout);
    }
    return new SegmentImageSet(
        file.getFileName().toString(),
        layout.source(),
        (int) rows,
        layout.channels(),
        layout.height(),
        layout.width(),
        layout.classes(),
        images,
        labels,
        layout.labelBytes(),
        arena,
        map);
  }

  /** Buffer {@code index} of the batch as a slice of the mapping, after checking it lies inside. */
  private static MemorySegment buffer(
      Path file,
      MemorySegment map,
      RecordBatch batch,
      int index,
      long body,
      long bodyLength,
      long needed,
      String column) {
    long offset = batch.buffers(index).offset();
    long length = batch.buffers(index).length();
    if (offset < 0 || length < needed || offset > bodyLength - needed) {
      throw corrupt(
          file,
          body + Math.max(offset, 0),
          "column "
              + column
              + "'s data buffer claims "
              + length
              + " bytes at body offset "
              + offset
              + "; it needs "
              + needed
              + " bytes inside the "
              + bodyLength
              + "-byte body");
    }
    if (body + offset + needed > map.byteSize()) {
      throw corrupt(
          file,
          body + offset,
          "column "
              + column
              + "'s data runs past the end of the file ("
              + map.byteSize()
              + " bytes)");
    }
    return map.asSlice(body + offset, needed);
  }

  private static void checkLabels(
      Path file, MemorySegment map, MemorySegment labels, int rows, Layout layout) {
    for (int i = 0; i < rows; i++) {
      int v =
          layout.labelBytes() == 1
              ? labels.get(ValueLayout.JAVA_BYTE, i)
              : labels.getAtIndex(INT_LE, i);
      if (v < 0 || v >= layout.classes()) {
        long at = labels.address() - map.address() + (long) i * layout.labelBytes();
        throw corrupt(
            file,
            at,
            "label "
                + i
                + " is "
                + v
                + "; the schema metadata says "
                + layout.classes()
                + " classes (0.."
                + (layout.classes() - 1)
                + ")");
      }
    }
  }

  private static void checkMagic(Path file, MemorySegment map, long at, String where) {
    byte[] found = map.asSlice(at, MAGIC.length).toArray(ValueLayout.JAVA_BYTE);
    if (!Arrays.equals(found, MAGIC)) {
      throw corrupt(
          file,
          at,
          "no Arrow IPC magic 'ARROW1' at the "
              + where
              + ": found "
              + HexFormat.ofDelimiter(" ").formatHex(found)
              + " (not an Arrow file, or cut short)");
    }
  }

  private static DatasetException corrupt(Path file, long at, String what) {
    return corrupt(file, at, what, null);
  }

  private static DatasetException corrupt(Path file, long at, String what, Throwable cause) {
    return new DatasetException(
        file,
        file
            + ": at byte "
            + at
            + ": "
            + what
            + ". Delete the file: a prepared data file is rebuilt from its source on the next run"
            + " (or rewrite it with ArrowImageFile.write).",
        cause);
  }
}
