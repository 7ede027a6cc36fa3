package dev.mspx.core.data;

import dev.mspx.api.DType;
import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryOwner;
import dev.mspx.api.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * An {@link ImageSet} over one contiguous segment of images (and optionally one of labels), both
 * kept alive by an {@link Arena} that {@link #close()} closes: a memory-mapped Arrow file or memory
 * of its own. All argument checks of the interface live here, once.
 */
final class SegmentImageSet implements ImageSet {

  // Arrow IPC buffers are little-endian whatever the machine.
  private static final ValueLayout.OfInt INT_LE =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final String name;
  private final String source;
  private final int size;
  private final int channels;
  private final int height;
  private final int width;
  private final int classes;
  private final MemorySegment images;
  private final MemorySegment labels;
  private final int labelBytes;
  private final Arena arena;
  private final MemorySegment backing;
  private volatile boolean closed;

  /**
   * @param name how messages name the set (a file name, a folder)
   * @param images {@code size * C * H * W} bytes
   * @param labels {@code size * labelBytes} bytes, or null without labels
   * @param labelBytes 1 (int8) or 4 (int32, little-endian)
   * @param backing the whole memory the segments lie in (the file mapping), for zero-copy checks
   */
  SegmentImageSet(
      String name,
      String source,
      int size,
      int channels,
      int height,
      int width,
      int classes,
      MemorySegment images,
      MemorySegment labels,
      int labelBytes,
      Arena arena,
      MemorySegment backing) {
    this.name = Objects.requireNonNull(name, "name");
    this.source = Objects.requireNonNull(source, "source");
    this.size = size;
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.classes = labels == null ? 0 : classes;
    this.images = images;
    this.labels = labels;
    this.labelBytes = labelBytes;
    this.arena = arena;
    this.backing = backing;
    if (images.byteSize() != (long) size * imageBytes()) {
      throw new IllegalArgumentException(
          name + ": " + images.byteSize() + " image bytes for " + size + " images of " + shape());
    }
    if (labels != null && labels.byteSize() != (long) size * labelBytes) {
      throw new IllegalArgumentException(
          name
              + ": "
              + labels.byteSize()
              + " label bytes for "
              + size
              + " labels of "
              + labelBytes);
    }
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public int channels() {
    return channels;
  }

  @Override
  public int height() {
    return height;
  }

  @Override
  public int width() {
    return width;
  }

  @Override
  public boolean hasLabels() {
    return labels != null;
  }

  @Override
  public int classes() {
    return classes;
  }

  @Override
  public String source() {
    return source;
  }

  /** The memory the images lie in (the whole file mapping for an Arrow file). */
  MemorySegment backing() {
    return backing;
  }

  /** All images as one segment, for sums and fingerprints. */
  MemorySegment images() {
    checkOpen();
    return images;
  }

  @Override
  public void gather(int[] indices, HostTensor out) {
    checkOpen();
    Objects.requireNonNull(indices, "indices");
    Objects.requireNonNull(out, "out");
    checkIndices("gather", indices);
    checkOut("gather", out, DType.UINT8, imageShape(indices.length));
    MemorySegment dst = out.segment();
    long row = imageBytes();
    for (int i = 0; i < indices.length; i++) {
      MemorySegment.copy(images, indices[i] * row, dst, i * row, row);
    }
  }

  @Override
  public void gatherLabels(int[] indices, HostTensor out) {
    checkOpen();
    Objects.requireNonNull(indices, "indices");
    Objects.requireNonNull(out, "out");
    checkLabelled("gatherLabels");
    checkIndices("gatherLabels", indices);
    checkOut("gatherLabels", out, DType.INT32, Shape.of(indices.length));
    MemorySegment dst = out.segment();
    for (int i = 0; i < indices.length; i++) {
      dst.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, rawLabel(indices[i]));
    }
  }

  @Override
  public int label(int index) {
    checkOpen();
    checkLabelled("label");
    if (index < 0 || index >= size) {
      throw new IndexOutOfBoundsException(
          "label(" + index + "): " + name + " has images 0.." + (size - 1));
    }
    return rawLabel(index);
  }

  private int rawLabel(int index) {
    return labelBytes == 1
        ? labels.get(ValueLayout.JAVA_BYTE, index)
        : labels.getAtIndex(INT_LE, index);
  }

  @Override
  public HostTensor view(int from, int n, MemoryOwner owner) {
    checkOpen();
    Objects.requireNonNull(owner, "owner");
    if (n < 1 || from < 0 || from > size - n) {
      throw new IndexOutOfBoundsException(
          "view(from="
              + from
              + ", n="
              + n
              + "): "
              + name
              + " has images 0.."
              + (size - 1)
              + "; a view needs n >= 1 and from + n <= "
              + size);
    }
    long row = imageBytes();
    return HostTensor.view(
        images.asSlice(from * row, n * row),
        imageShape(n),
        DType.UINT8,
        owner,
        name + "[" + from + ", " + (from + n) + ")");
  }

  @Override
  public String describe() {
    return name
        + ": "
        + size
        + " images "
        + channels
        + "x"
        + height
        + "x"
        + width
        + (labels == null ? ", no labels" : ", labels of " + classes + " classes")
        + ", from "
        + source;
  }

  @Override
  public String toString() {
    return "ImageSet(" + describe() + (closed ? ", closed" : "") + ")";
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      if (arena != null) {
        arena.close();
      }
    }
  }

  private Shape imageShape(int n) {
    return Shape.nchw(n, channels, height, width);
  }

  private String shape() {
    return channels + "x" + height + "x" + width;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(name + " is closed");
    }
  }

  private void checkLabelled(String op) {
    if (labels == null) {
      throw new IllegalStateException(
          op + ": " + name + " has no labels (hasLabels() is false); train it unconditioned");
    }
  }

  private void checkIndices(String op, int[] indices) {
    if (indices.length == 0) {
      throw new IllegalArgumentException(op + ": indices is empty; ask for at least one image");
    }
    for (int i = 0; i < indices.length; i++) {
      if (indices[i] < 0 || indices[i] >= size) {
        throw new IndexOutOfBoundsException(
            op
                + ": indices["
                + i
                + "] = "
                + indices[i]
                + " but "
                + name
                + " has images 0.."
                + (size - 1));
      }
    }
  }

  private void checkOut(String op, HostTensor out, DType dtype, Shape shape) {
    if (out.isClosed()) {
      throw new IllegalStateException(op + ": out " + out.describe() + " is closed");
    }
    if (out.dtype() != dtype || !out.shape().equals(shape)) {
      throw new IllegalArgumentException(
          op
              + ": out must be "
              + dtype
              + shape
              + " (one entry per index, images of "
              + name
              + "); got "
              + out.describe());
    }
  }
}
