package dev.mspx.spark;

/**
 * Sums float arrays element by element over the replicas of one barrier stage, in place: after {@link
 * #allReduce} every replica holds the same sum, to the bit. What a replica's gradients are exchanged
 * with ({@link HostExchange}); the implementations are the ring over sockets ({@link RingAllReduce})
 * and, on GPUs, NCCL ({@link dev.mspx.spark.nccl.NcclExchange}, which works on device memory instead).
 */
public interface Collective extends AutoCloseable {

  /** Replaces {@code data} on every replica by the element-wise sum over all replicas. */
  void allReduce(float[] data);

  /** This replica's rank, {@code 0..replicas()-1}. */
  int rank();

  int replicas();

  /** Bytes this replica has sent so far (for the measurements). */
  long bytesSent();

  @Override
  void close();
}
