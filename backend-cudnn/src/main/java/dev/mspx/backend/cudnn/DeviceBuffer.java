package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;

import dev.mspx.backend.cudnn.bindings.cuda_runtime_api_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Backend-internal GPU memory that only grows: the convolution workspace, the masked-weight scratch,
 * the reduction partials. Not a tensor, so not in the leak books; freed when the backend closes.
 * Ops are stream-ordered, so one buffer serves every op in turn.
 */
final class DeviceBuffer {

  private final String purpose;
  private long address;
  private long capacity;

  DeviceBuffer(String purpose) {
    this.purpose = purpose;
  }

  /** The address of at least {@code bytes} bytes (0 for none), growing the buffer if needed. */
  long ensure(long bytes) {
    if (bytes > capacity) {
      // cudaFree waits for the device to finish, so work still reading the old buffer completes.
      release();
      address = malloc(bytes, purpose);
      capacity = bytes;
    }
    return bytes == 0 ? 0 : address;
  }

  long capacity() {
    return capacity;
  }

  void release() {
    if (address != 0) {
      long a = address;
      address = 0;
      capacity = 0;
      free(a, purpose);
    }
  }

  /** {@code cudaMalloc}, with what the memory is for in the error. */
  static long malloc(long bytes, String purpose) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      Status.cuda(
          cuda_runtime_api_h.cudaMalloc(out, Math.max(1, bytes)),
          () -> "cudaMalloc(" + bytes + " bytes for " + purpose + ")");
      return out.get(ADDRESS, 0).address();
    }
  }

  static void free(long address, String purpose) {
    Status.cuda(
        cuda_runtime_api_h.cudaFree(MemorySegment.ofAddress(address)),
        () -> "cudaFree(" + purpose + ")");
  }
}
