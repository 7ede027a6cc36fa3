package dev.mspx.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed pool for data-parallel loops: {@code threads - 1} daemon workers plus the calling
 * thread, which takes part in every loop. One loop runs at a time ({@link #forEach} is
 * synchronized), so the kernels need no further locking.
 *
 * <p>Tasks are handed out dynamically (an atomic counter), because the machine is shared and a
 * static split would wait for the slowest core; results stay deterministic because every task writes
 * its own outputs and never depends on which thread ran it.
 *
 * <p>Workers spin briefly before parking: a training step issues hundreds of short loops, and a
 * park/unpark round trip costs tens of microseconds, as much as a small convolution.
 */
final class WorkerPool implements AutoCloseable {

  /**
   * A loop body: runs task {@code task} of the current loop on worker {@code worker} (0 is the
   * calling thread), so that a body can use per-worker scratch memory.
   */
  @FunctionalInterface
  interface Task {
    void run(int task, int worker);
  }

  /** Spins before a worker parks: tens of microseconds, short enough not to starve other processes. */
  private static final int SPINS = 5_000;

  private final Thread[] workers;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger busy = new AtomicInteger();
  private volatile Task task;
  private volatile int tasks;
  private volatile long generation;
  private volatile boolean closed;
  private volatile Throwable failure;

  WorkerPool(int threads, String name) {
    if (threads < 1) {
      throw new IllegalArgumentException("worker pool " + name + ": threads must be >= 1, got " + threads);
    }
    workers = new Thread[threads - 1];
    for (int i = 0; i < workers.length; i++) {
      int worker = i + 1;
      Thread t = new Thread(() -> workLoop(worker), name + "-" + worker);
      t.setDaemon(true);
      workers[i] = t;
      t.start();
    }
  }

  /** Threads that run a loop, the caller included. */
  int threads() {
    return workers.length + 1;
  }

  /**
   * Runs {@code body} for every task {@code 0..count-1} and returns when all have finished. The
   * first exception a task throws is rethrown here (the remaining tasks still run).
   */
  synchronized void forEach(int count, Task body) {
    if (closed) {
      throw new IllegalStateException("worker pool is closed");
    }
    if (count <= 0) {
      return;
    }
    if (count == 1 || workers.length == 0) {
      for (int i = 0; i < count; i++) {
        body.run(i, 0);
      }
      return;
    }
    failure = null;
    task = body;
    tasks = count;
    next.set(0);
    busy.set(workers.length);
    generation++; // publishes task and count to the workers (volatile write after them)
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    drain(body, count, 0);
    // Wait for the workers to leave this loop; they finish their last task and decrement.
    int spins = 0;
    while (busy.get() != 0) {
      if (++spins > SPINS) {
        Thread.yield();
      } else {
        Thread.onSpinWait();
      }
    }
    task = null;
    Throwable f = failure;
    if (f != null) {
      failure = null;
      if (f instanceof RuntimeException r) {
        throw r;
      }
      if (f instanceof Error e) {
        throw e;
      }
      throw new IllegalStateException(f);
    }
  }

  private void drain(Task body, int count, int worker) {
    for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
      try {
        body.run(i, worker);
      } catch (Throwable t) {
        if (failure == null) {
          failure = t;
        }
      }
    }
  }

  private void workLoop(int worker) {
    long seen = 0;
    while (true) {
      int spins = 0;
      while (generation == seen && !closed) {
        if (++spins < SPINS) {
          Thread.onSpinWait();
        } else {
          LockSupport.park(this);
        }
      }
      if (closed) {
        return;
      }
      seen = generation;
      Task body = task;
      int count = tasks;
      if (body != null) {
        drain(body, count, worker);
      }
      busy.decrementAndGet();
    }
  }

  /** Stops the workers; they exit once the loop in progress (if any) is done. */
  @Override
  public synchronized void close() {
    closed = true;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    for (Thread w : workers) {
      try {
        w.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
