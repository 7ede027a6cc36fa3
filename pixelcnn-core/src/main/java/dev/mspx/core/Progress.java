package dev.mspx.core;

/** Told how far a long piece of work has come: {@code done} of {@code total} units (images, steps). */
@FunctionalInterface
public interface Progress {

  /** Ignores everything. */
  Progress NONE = (done, total) -> {};

  void update(long done, long total);
}
