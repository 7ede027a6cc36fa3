package dev.mspx.spark.nccl;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.backend.cudnn.CudnnBackend;
import dev.mspx.core.Trainer;
import dev.mspx.spark.ReplicaHook;
import java.lang.foreign.MemorySegment;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * The gradient exchange of replicas on GPUs: NCCL's all-reduce, in place, on the cuDNN backend's own
 * gradient tensors and CUDA stream (no copy to the host), one call per tensor inside one NCCL group;
 * the loss and the stop request travel in a two-float device tensor the same way. The communicator
 * is made once per stage: rank 0's {@code ncclGetUniqueId} is shared through the barrier's
 * {@code allGather}, then every rank calls {@code ncclCommInitRank} on its backend's device.
 *
 * <p><b>Unverified on GPU</b>: built and tested on a CPU-only machine as far as that goes (discovery,
 * loading, version, the unique id, and the reasons it refuses to start); no GPU has run it yet.
 */
public final class NcclExchange implements Trainer.GradientExchange, AutoCloseable {

  private final Nccl nccl;
  private final CudnnBackend backend;
  private final MemorySegment comm;
  private final int rank;
  private final ReplicaHook hook;
  private final int attempt;
  private final Tensor control;
  private final HostMemory host = HostMemory.create("nccl-exchange");
  private final HostTensor hostControl;
  private boolean requestStop;
  private boolean stopAgreed;
  private long nanos;
  private long bytes;

  private NcclExchange(Nccl nccl, CudnnBackend backend, MemorySegment comm, int rank, ReplicaHook hook, int attempt) {
    this.nccl = nccl;
    this.backend = backend;
    this.comm = comm;
    this.rank = rank;
    this.hook = hook;
    this.attempt = attempt;
    this.control = backend.allocate(Shape.of(2), DType.FLOAT32, "nccl.control");
    this.hostControl = host.allocate(Shape.of(2), DType.FLOAT32, "nccl.control");
  }

  /**
   * Why NCCL cannot exchange the gradients of {@code backend}'s replicas, or null if it can be tried:
   * the replica must run on the cuDNN backend, and libnccl.so.2 must load.
   */
  public static String unavailable(Backend backend, NcclLibrary.Search library) {
    if (!(backend instanceof CudnnBackend)) {
      return "the nccl collective exchanges GPU memory: the replicas run on backend " + backend.name()
          + "; give --backend cudnn on executors with GPUs, or --collective ring";
    }
    if (!library.found()) {
      return library.describe();
    }
    return null;
  }

  /** Makes the communicator of a barrier stage's {@code replicas} tasks (every task calls this). */
  public static NcclExchange connect(Backend backend, int rank, int replicas, Function<String, List<String>> allGather, ReplicaHook hook, int attempt) {
    NcclLibrary.Search library = NcclLibrary.find();
    String why = unavailable(backend, library);
    if (why != null) {
      throw new NcclException("NCCL unavailable on replica " + rank + ": " + why);
    }
    Nccl nccl = new Nccl(library.symbols().orElseThrow());
    CudnnBackend cudnn = (CudnnBackend) backend;
    String mine = rank == 0 ? Base64.getEncoder().encodeToString(nccl.uniqueId()) : "";
    byte[] id = Base64.getDecoder().decode(allGather.apply(mine).getFirst());
    cudnn.synchronize();
    MemorySegment comm = nccl.commInitRank(replicas, id, rank);
    return new NcclExchange(nccl, cudnn, comm, rank, hook, attempt);
  }

  public void requestStop() {
    requestStop = true;
  }

  public boolean stopAgreed() {
    return stopAgreed;
  }

  public double secondsExchanging() {
    return nanos / 1e9;
  }

  public long bytesSent() {
    return bytes;
  }

  @Override
  public double exchange(Trainer trainer, double localNats) {
    hook.gradientsComputed(attempt, rank, trainer.steps() + 1);
    long start = System.nanoTime();
    hostControl.setFloat(0, (float) localNats);
    hostControl.setFloat(1, rank == 0 && requestStop ? 1 : 0);
    backend.copyFromHost(hostControl, control);
    MemorySegment stream = backend.stream();
    nccl.groupStart();
    try {
      for (Tensor g : trainer.gradientTensors()) {
        nccl.allReduceSum(backend.deviceAddress(g), g.shape().elements(), comm, stream);
        bytes += 4 * g.shape().elements();
      }
      nccl.allReduceSum(backend.deviceAddress(control), 2, comm, stream);
    } finally {
      nccl.groupEnd();
    }
    backend.copyToHost(control, hostControl); // waits for the stream: the sums are there
    int error = nccl.asyncError(comm);
    if (error != Nccl.SUCCESS) {
      throw new NcclException("replica " + rank + ": the communicator failed (" + nccl.errorString(error) + "): a peer died or the network broke");
    }
    stopAgreed = hostControl.getFloat(1) > 0;
    nanos += System.nanoTime() - start;
    return hostControl.getFloat(0);
  }

  @Override
  public void close() {
    try {
      nccl.commDestroy(comm);
    } catch (RuntimeException e) {
      nccl.commAbort(comm);
    } finally {
      control.close();
      hostControl.close();
      host.close();
    }
  }
}
