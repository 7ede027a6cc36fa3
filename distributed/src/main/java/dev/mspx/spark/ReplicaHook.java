package dev.mspx.spark;

import java.io.Serializable;

/**
 * Called on every replica in the middle of every training step: after the replica has computed its
 * gradients and before they are exchanged. It runs in the Spark task, so it travels with the job
 * (serialisable). For observation (timings, metrics) and for fault injection: one that throws kills the
 * replica's task mid-step, which is how the tests check that a failed stage resumes from the last
 * checkpoint.
 */
@FunctionalInterface
public interface ReplicaHook extends Serializable {

  ReplicaHook NONE = (attempt, rank, step) -> {};

  /**
   * @param attempt the driver's attempt at the run, 0 first, one more after each failed stage
   * @param rank the replica
   * @param step the step being taken, counted from 1 over the whole run
   */
  void gradientsComputed(int attempt, int rank, long step);
}
