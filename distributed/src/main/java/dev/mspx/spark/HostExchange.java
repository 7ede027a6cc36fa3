package dev.mspx.spark;

import dev.mspx.core.Trainer;

/**
 * The gradient exchange of a replica whose collective sums host arrays ({@link RingAllReduce}, or the
 * identity for one replica): gradients copied to one {@code float[]} ({@link GradientBuffer}) with the
 * replica's loss and rank 0's stop request in two slots after them, summed, copied back. The loss
 * travels as float32 (its sum is reported, not trained on: about 7 significant digits) and the stop
 * request as 0 or 1, so every replica learns in the same step that rank 0 asked to stop.
 */
final class HostExchange implements Trainer.GradientExchange, AutoCloseable {

  private final dev.mspx.api.Backend backend;
  private final Collective collective;
  private final ReplicaHook hook;
  private final int attempt;
  private GradientBuffer buffer;
  private boolean requestStop;
  private boolean stopAgreed;
  private long exchanges;
  private long nanosExchanging;

  HostExchange(dev.mspx.api.Backend backend, Collective collective, ReplicaHook hook, int attempt) {
    this.backend = backend;
    this.collective = collective;
    this.hook = hook;
    this.attempt = attempt;
  }

  /** Rank 0 asks every replica to stop after the next exchange (others' requests are ignored). */
  void requestStop() {
    requestStop = true;
  }

  /** Whether rank 0 asked to stop in the last exchange. */
  boolean stopAgreed() {
    return stopAgreed;
  }

  /** Seconds spent in the collective (copies to and from the host included), and how many exchanges. */
  double secondsExchanging() {
    return nanosExchanging / 1e9;
  }

  long exchanges() {
    return exchanges;
  }

  @Override
  public double exchange(Trainer trainer, double localNats) {
    hook.gradientsComputed(attempt, collective.rank(), trainer.steps() + 1);
    long start = System.nanoTime();
    if (buffer == null) {
      buffer = new GradientBuffer(backend, trainer.gradientTensors());
    }
    float[] flat = buffer.read();
    flat[buffer.nats()] = (float) localNats;
    flat[buffer.stop()] = collective.rank() == 0 && requestStop ? 1 : 0;
    collective.allReduce(flat);
    buffer.write();
    stopAgreed = flat[buffer.stop()] > 0;
    exchanges++;
    nanosExchanging += System.nanoTime() - start;
    return flat[buffer.nats()];
  }

  @Override
  public void close() {
    if (buffer != null) {
      buffer.close();
    }
  }
}
