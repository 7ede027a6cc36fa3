package dev.mspx.api;

/**
 * A block of backend memory from which tensor views are carved at fixed offsets: the arena in which an
 * execution plan lays out its activations once, so that a training step allocates nothing. Views own no
 * memory; they are valid until the workspace is closed.
 */
public interface Workspace extends AutoCloseable {

  long byteSize();

  /**
   * A tensor over {@code [offset, offset + shape·dtype)} of this workspace. The offset must be a
   * multiple of {@link #ALIGNMENT}.
   */
  Tensor view(long offset, Shape shape, DType dtype, String label);

  /** Views must start at a multiple of this many bytes (enough for AVX-512 and CUDA vector loads). */
  long ALIGNMENT = 64;

  @Override
  void close();
}
