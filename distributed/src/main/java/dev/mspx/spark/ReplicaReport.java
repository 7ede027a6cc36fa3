package dev.mspx.spark;

import java.io.Serializable;

/**
 * What a replica reports when its stage ends: how many steps it took in this attempt, the seconds they
 * took (without writing checkpoints), how many of those were spent exchanging gradients, and how much
 * it sent.
 */
public record ReplicaReport(int rank, long firstStep, long lastStep, double seconds, double secondsExchanging,
    long bytesSent, long gradientElements, String backend) implements Serializable {

  /** Steps taken in this attempt. */
  public long steps() {
    return lastStep - firstStep;
  }
}
