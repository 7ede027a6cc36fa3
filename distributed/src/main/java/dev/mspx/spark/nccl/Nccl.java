package dev.mspx.spark.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Panama (FFM) bindings of the part of NCCL 2's {@code nccl.h} that data-parallel training calls:
 * version, unique id, communicator init/destroy/abort, async error, all-reduce and grouping, error
 * strings. Written from the prototypes of {@code nccl.h} 2.30.7 (the nvidia-nccl-cu13 wheel), the
 * same downcalls jextract generates for them; these ten functions have been stable since NCCL 2.4.
 * The library is found by {@link NcclLibrary}; nothing here runs until a {@link Nccl} is made.
 */
// Native access is this class's job; the JVM flags enable it (--enable-native-access).
@SuppressWarnings("restricted")
public final class Nccl {

  /** {@code NCCL_UNIQUE_ID_BYTES}. */
  public static final int UNIQUE_ID_BYTES = 128;
  /** {@code ncclUniqueId}: {@code struct { char internal[128]; }}, passed by value to init. */
  static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, JAVA_BYTE).withName("internal"));
  /** {@code ncclFloat32}. */
  public static final int FLOAT32 = 7;
  /** {@code ncclSum}. */
  public static final int SUM = 0;
  /** {@code ncclSuccess}. */
  public static final int SUCCESS = 0;

  private final MethodHandle getVersion;
  private final MethodHandle getUniqueId;
  private final MethodHandle commInitRank;
  private final MethodHandle commDestroy;
  private final MethodHandle commAbort;
  private final MethodHandle commGetAsyncError;
  private final MethodHandle allReduce;
  private final MethodHandle groupStart;
  private final MethodHandle groupEnd;
  private final MethodHandle getErrorString;

  /** Binds the functions of a loaded {@code libnccl.so.2}; a missing symbol is named. */
  public Nccl(SymbolLookup library) {
    Linker linker = Linker.nativeLinker();
    getVersion = bind(linker, library, "ncclGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    getUniqueId = bind(linker, library, "ncclGetUniqueId", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    commInitRank = bind(linker, library, "ncclCommInitRank", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT));
    commDestroy = bind(linker, library, "ncclCommDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    commAbort = bind(linker, library, "ncclCommAbort", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    commGetAsyncError = bind(linker, library, "ncclCommGetAsyncError", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    allReduce = bind(linker, library, "ncclAllReduce",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    groupStart = bind(linker, library, "ncclGroupStart", FunctionDescriptor.of(JAVA_INT));
    groupEnd = bind(linker, library, "ncclGroupEnd", FunctionDescriptor.of(JAVA_INT));
    getErrorString = bind(linker, library, "ncclGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  }

  private static MethodHandle bind(Linker linker, SymbolLookup library, String name, FunctionDescriptor descriptor) {
    MemorySegment symbol = library.find(name).orElseThrow(() -> new NcclException(
        "libnccl.so.2 has no " + name + ": it is not NCCL 2.4 or newer; install a current NCCL 2"));
    return linker.downcallHandle(symbol, descriptor);
  }

  /** {@code ncclGetVersion}: e.g. 23007 for 2.30.7 (major·10000 + minor·100 + patch since 2.9). */
  public int version() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_INT);
      check((int) getVersion.invokeExact(out), "ncclGetVersion");
      return out.get(JAVA_INT, 0);
    } catch (NcclException e) {
      throw e;
    } catch (Throwable t) {
      throw new NcclException("ncclGetVersion: " + t, t);
    }
  }

  /** {@code ncclGetUniqueId}: the 128 bytes rank 0 makes and every rank passes to {@link #commInitRank}. */
  public byte[] uniqueId() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment id = arena.allocate(UNIQUE_ID);
      check((int) getUniqueId.invokeExact(id), "ncclGetUniqueId");
      return id.toArray(JAVA_BYTE);
    } catch (NcclException e) {
      throw e;
    } catch (Throwable t) {
      throw new NcclException("ncclGetUniqueId: " + t, t);
    }
  }

  /** {@code ncclCommInitRank} on the calling thread's current CUDA device; returns the communicator. */
  public MemorySegment commInitRank(int ranks, byte[] uniqueId, int rank) {
    if (uniqueId.length != UNIQUE_ID_BYTES) {
      throw new IllegalArgumentException("an NCCL unique id is " + UNIQUE_ID_BYTES + " bytes, got " + uniqueId.length);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      MemorySegment id = arena.allocate(UNIQUE_ID);
      id.copyFrom(MemorySegment.ofArray(uniqueId));
      check((int) commInitRank.invokeExact(out, ranks, id, rank), "ncclCommInitRank(rank " + rank + " of " + ranks + ")");
      return out.get(ADDRESS, 0);
    } catch (NcclException e) {
      throw e;
    } catch (Throwable t) {
      throw new NcclException("ncclCommInitRank: " + t, t);
    }
  }

  /** {@code ncclAllReduce} of {@code count} floats, in place, summed, enqueued on {@code stream}. */
  public void allReduceSum(long deviceAddress, long count, MemorySegment comm, MemorySegment stream) {
    MemorySegment buffer = MemorySegment.ofAddress(deviceAddress);
    try {
      check((int) allReduce.invokeExact(buffer, buffer, count, FLOAT32, SUM, comm, stream), "ncclAllReduce");
    } catch (NcclException e) {
      throw e;
    } catch (Throwable t) {
      throw new NcclException("ncclAllReduce: " + t, t);
    }
  }

  public void groupStart() {
    call(groupStart, "ncclGroupStart");
  }

  public void groupEnd() {
    call(groupEnd, "ncclGroupEnd");
  }

  /** {@code ncclCommGetAsyncError}: an error a peer's failure left on the communicator, if any. */
  public int asyncError(MemorySegment comm) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_INT);
      check((int) commGetAsyncError.invokeExact(comm, out), "ncclCommGetAsyncError");
      return out.get(JAVA_INT, 0);
    } catch (NcclException e) {
      throw e;
    } catch (Throwable t) {
      throw new NcclException("ncclCommGetAsyncError: " + t, t);
    }
  }

  public void commDestroy(MemorySegment comm) {
    try {
      check((int) commDestroy.invokeExact(comm), "ncclCommDestroy");
    } catch (NcclException e) {
      throw e;
    } catch (Throwable t) {
      throw new NcclException("ncclCommDestroy: " + t, t);
    }
  }

  /** {@code ncclCommAbort}: frees the communicator without waiting for peers (after a failure). */
  public void commAbort(MemorySegment comm) {
    try {
      int ignored = (int) commAbort.invokeExact(comm);
    } catch (Throwable t) {
      // aborting after a failure: that failure is what gets reported
    }
  }

  /** {@code ncclGetErrorString}. */
  public String errorString(int result) {
    try {
      MemorySegment s = (MemorySegment) getErrorString.invokeExact(result);
      return s.equals(MemorySegment.NULL) ? "?" : s.reinterpret(Long.MAX_VALUE).getString(0);
    } catch (Throwable t) {
      return "?";
    }
  }

  private void call(MethodHandle h, String what) {
    try {
      check((int) h.invokeExact(), what);
    } catch (NcclException e) {
      throw e;
    } catch (Throwable t) {
      throw new NcclException(what + ": " + t, t);
    }
  }

  private void check(int result, String what) {
    if (result != SUCCESS) {
      throw new NcclException(what + " failed: NCCL error " + result + " (" + errorString(result) + ")");
    }
  }
}
