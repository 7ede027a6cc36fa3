package dev.mspx.api;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Host tensor memory drawn from an Apache Arrow {@link BufferAllocator}, with the books kept per tensor:
 * {@link #close()} with tensors still open throws a {@link MemoryLeakException} that names each of them.
 *
 * <p>Tensors from {@link #allocate} are zero-filled and own their Arrow buffer. {@link #wrap} makes a
 * tensor over an existing Arrow buffer without copying (a record batch column, a memory-mapped IPC
 * file), holding a reference to it until the tensor is closed.
 */
public final class HostMemory implements MemoryOwner, AutoCloseable {

  private final String name;
  private final BufferAllocator allocator;
  private final LiveSet live;
  private boolean closed;

  private HostMemory(String name, BufferAllocator allocator) {
    this.name = name;
    this.allocator = allocator;
    this.live = new LiveSet(name);
  }

  /** Host memory with its own Arrow root allocator, unlimited. */
  public static HostMemory create(String name) {
    return new HostMemory(name, new RootAllocator(Long.MAX_VALUE));
  }

  /** Host memory drawing from a child of {@code parent}, so that Arrow's own books see it too. */
  public static HostMemory childOf(BufferAllocator parent, String name) {
    return new HostMemory(name, parent.newChildAllocator(name, 0, Long.MAX_VALUE));
  }

  @Override
  public String name() {
    return name;
  }

  /** The Arrow allocator behind this memory, for Arrow vectors that should share its books. */
  public BufferAllocator allocator() {
    return allocator;
  }

  /** A new zero-filled tensor owned by this memory. */
  public HostTensor allocate(Shape shape, DType dtype, String label) {
    return allocate(shape, dtype, label, this);
  }

  /**
   * A new zero-filled tensor whose {@link Tensor#owner()} is {@code owner}: how a CPU backend hands out
   * tensors that live in this memory but belong to it.
   */
  public HostTensor allocate(Shape shape, DType dtype, String label, MemoryOwner owner) {
    checkOpen();
    long bytes = shape.elements() * dtype.byteSize();
    ArrowBuf buf = allocator.buffer(Math.max(bytes, 1));
    MemorySegment seg = MemorySegment.ofAddress(buf.memoryAddress()).reinterpret(bytes);
    seg.fill((byte) 0);
    return track(shape, dtype, label, owner, seg, buf);
  }

  /**
   * A tensor over {@code bytes} of {@code buf} from {@code offset}, without copying. The tensor holds a
   * reference to the buffer until it is closed.
   */
  public HostTensor wrap(ArrowBuf buf, long offset, Shape shape, DType dtype, String label) {
    checkOpen();
    Objects.requireNonNull(buf, "buf");
    long bytes = shape.elements() * dtype.byteSize();
    if (offset < 0 || offset + bytes > buf.capacity()) {
      throw new IllegalArgumentException(
          "wrap "
              + label
              + ": "
              + dtype
              + shape
              + " needs bytes ["
              + offset
              + ", "
              + (offset + bytes)
              + ") but the Arrow buffer has "
              + buf.capacity());
    }
    buf.getReferenceManager().retain();
    MemorySegment seg = MemorySegment.ofAddress(buf.memoryAddress() + offset).reinterpret(bytes);
    return track(shape, dtype, label, this, seg, buf);
  }

  private HostTensor track(
      Shape shape, DType dtype, String label, MemoryOwner owner, MemorySegment seg, ArrowBuf buf) {
    Object[] self = new Object[1];
    long bytes = seg.byteSize();
    HostTensor t =
        new HostTensor(
            shape,
            dtype,
            owner,
            label,
            seg,
            () -> {
              live.remove(self[0], bytes);
              buf.getReferenceManager().release();
            });
    self[0] = t;
    live.add(t, t.describe(), bytes);
    return t;
  }

  @Override
  public long outstandingBytes() {
    return live.bytes();
  }

  /** Number of tensors allocated or wrapped here and not yet closed. */
  public int outstandingTensors() {
    return live.count();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("host memory '" + name + "' is closed");
    }
  }

  /**
   * Closes the allocator. With tensors still open, they are released first and a {@link
   * MemoryLeakException} naming them is thrown.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    MemoryLeakException leak = live.leakReport();
    if (leak != null) {
      for (Object t : live.handles()) {
        ((HostTensor) t).close();
      }
    }
    allocator.close();
    if (leak != null) {
      throw leak;
    }
  }
}
