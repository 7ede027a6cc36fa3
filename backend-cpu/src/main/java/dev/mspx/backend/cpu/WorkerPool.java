package dev.mspx.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed pool for data-parallel loops: {@code threads - 1} daemon workers plus the calling
 * thread, which takes part in every loop. One loop runs at a time ({@link #forEach} is
 * synchronized), so the kernels need no further locking.
 *
 * <p>Tasks are handed out dynamically (an atomic counter), because the machine is shared and a
 * static split would wait for the slowest core. The caller waits only for tasks that a worker has
 * actually started, never for a worker that has not woken up yet: on a busy machine a descheduled
 * worker would otherwise stall every loop for a scheduler time slice. Results stay deterministic
 * because every task writes its own outputs and never depends on which thread ran it.
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

  /** One call of {@link #forEach}: its own counters, so a late worker can never claim a later loop's task. */
  private static final class Loop {
    final Task body;
    final int count;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger active = new AtomicInteger();
    volatile Throwable failure;

    Loop(Task body, int count) {
      this.body = body;
      this.count = count;
    }

    /** Claims and runs tasks until none is left. */
    void drain(int worker) {
      while (true) {
        active.incrementAndGet(); // before the claim, so the caller cannot miss a task in flight
        int i = next.getAndIncrement();
        if (i >= count) {
          active.decrementAndGet();
          return;
        }
        try {
          body.run(i, worker);
        } catch (Throwable t) {
          if (failure == null) {
            failure = t;
          }
        } finally {
          active.decrementAndGet();
        }
      }
    }
  }

  private final Thread[] workers;
  private volatile Loop current;
  private volatile boolean closed;

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
    Loop loop = new Loop(body, count);
    current = loop;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    loop.drain(0);
    int spins = 0;
    while (loop.active.get() != 0) {
      if (++spins > SPINS) {
        Thread.yield();
      } else {
        Thread.onSpinWait();
      }
    }
    Throwable f = loop.failure;
    if (f != null) {
      if (f instanceof RuntimeException r) {
        throw r;
      }
      if (f instanceof Error e) {
        throw e;
      }
      throw new IllegalStateException(f);
    }
  }

  private void workLoop(int worker) {
    Loop seen = null;
    while (true) {
      int spins = 0;
      Loop loop;
      while ((loop = current) == seen && !closed) {
        if (++spins < SPINS) {
          Thread.onSpinWait();
        } else {
          LockSupport.park(this);
        }
      }
      if (closed) {
        return;
      }
      seen = loop;
      loop.drain(worker);
    }
  }

  /** Stops the workers; waits for the loop in progress, if any, to finish first. */
  @Override
  public synchronized void close() {
    closed = true;
    current = null;
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
