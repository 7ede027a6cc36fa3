package dev.mspx.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A tensor in host memory: an Arrow buffer (or a slice of one) seen as a {@link MemorySegment}. The CPU
 * backends compute on these directly; device backends copy them in and out with {@link
 * Backend#copyFromHost} and {@link Backend#copyToHost}.
 *
 * <p>Element accessors take a flat, row-major index and check the dtype; kernels that need speed use
 * {@link #segment()} directly.
 */
public final class HostTensor implements Tensor {

  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

  private final Shape shape;
  private final DType dtype;
  private final MemoryOwner owner;
  private final String label;
  private final MemorySegment segment;
  private final Runnable release;
  private volatile boolean closed;

  HostTensor(
      Shape shape,
      DType dtype,
      MemoryOwner owner,
      String label,
      MemorySegment segment,
      Runnable release) {
    this.shape = Objects.requireNonNull(shape, "shape");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.owner = Objects.requireNonNull(owner, "owner");
    this.label = Objects.requireNonNull(label, "label");
    this.segment = segment;
    this.release = release;
    if (segment.byteSize() != byteSize()) {
      throw new IllegalArgumentException(
          describe() + " needs " + byteSize() + " bytes but its memory has " + segment.byteSize());
    }
  }

  /**
   * A tensor over memory that someone else owns and keeps alive (a workspace slice, a memory-mapped
   * file). Closing it releases nothing.
   */
  public static HostTensor view(
      MemorySegment segment, Shape shape, DType dtype, MemoryOwner owner, String label) {
    return new HostTensor(shape, dtype, owner, label, segment, () -> {});
  }

  @Override
  public Shape shape() {
    return shape;
  }

  @Override
  public DType dtype() {
    return dtype;
  }

  @Override
  public MemoryOwner owner() {
    return owner;
  }

  @Override
  public String label() {
    return label;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  /** The tensor's memory. Valid until {@link #close()}. */
  public MemorySegment segment() {
    checkOpen();
    return segment;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      release.run();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(describe() + " is closed");
    }
  }

  private void expect(DType expected) {
    if (dtype != expected) {
      throw new IllegalArgumentException(describe() + " is " + dtype + ", not " + expected);
    }
  }

  public float getFloat(long index) {
    expect(DType.FLOAT32);
    return segment().getAtIndex(F32, index);
  }

  public void setFloat(long index, float value) {
    expect(DType.FLOAT32);
    segment().setAtIndex(F32, index, value);
  }

  public int getInt(long index) {
    expect(DType.INT32);
    return segment().getAtIndex(I32, index);
  }

  public void setInt(long index, int value) {
    expect(DType.INT32);
    segment().setAtIndex(I32, index, value);
  }

  /** A {@code uint8} element as {@code 0..255}. */
  public int getUnsignedByte(long index) {
    expect(DType.UINT8);
    return Byte.toUnsignedInt(segment().get(ValueLayout.JAVA_BYTE, index));
  }

  public void setUnsignedByte(long index, int value) {
    expect(DType.UINT8);
    if (value < 0 || value > 255) {
      throw new IllegalArgumentException(describe() + ": uint8 value " + value + " out of 0..255");
    }
    segment().set(ValueLayout.JAVA_BYTE, index, (byte) value);
  }

  /** Any element as a double, whatever the dtype (uint8 unsigned). */
  public double getAsDouble(long index) {
    return switch (dtype) {
      case FLOAT32 -> getFloat(index);
      case INT32 -> getInt(index);
      case UINT8 -> getUnsignedByte(index);
    };
  }

  /** Sets any element from a double (rounded toward zero for integer dtypes). */
  public void setFromDouble(long index, double value) {
    switch (dtype) {
      case FLOAT32 -> setFloat(index, (float) value);
      case INT32 -> setInt(index, (int) value);
      case UINT8 -> setUnsignedByte(index, (int) value);
    }
  }

  public float[] toFloatArray() {
    expect(DType.FLOAT32);
    return segment().toArray(ValueLayout.JAVA_FLOAT);
  }

  public HostTensor copyFrom(float[] values) {
    expect(DType.FLOAT32);
    checkLength(values.length);
    MemorySegment.copy(values, 0, segment(), ValueLayout.JAVA_FLOAT, 0, values.length);
    return this;
  }

  public int[] toIntArray() {
    expect(DType.INT32);
    return segment().toArray(ValueLayout.JAVA_INT);
  }

  public HostTensor copyFrom(int[] values) {
    expect(DType.INT32);
    checkLength(values.length);
    MemorySegment.copy(values, 0, segment(), ValueLayout.JAVA_INT, 0, values.length);
    return this;
  }

  public byte[] toByteArray() {
    return segment().toArray(ValueLayout.JAVA_BYTE);
  }

  public HostTensor copyFrom(byte[] values) {
    expect(DType.UINT8);
    checkLength(values.length);
    MemorySegment.copy(values, 0, segment(), ValueLayout.JAVA_BYTE, 0, values.length);
    return this;
  }

  private void checkLength(int length) {
    if (length != shape.elements()) {
      throw new IllegalArgumentException(
          describe() + " has " + shape.elements() + " elements; got an array of " + length);
    }
  }

  @Override
  public String toString() {
    return "HostTensor(" + describe() + (closed ? ", closed" : "") + ")";
  }
}
