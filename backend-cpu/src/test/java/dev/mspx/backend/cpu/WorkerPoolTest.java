package dev.mspx.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {

  @Test
  void everyTaskRunsExactlyOnceInEveryLoop() {
    try (WorkerPool pool = new WorkerPool(3, "test-pool")) {
      for (int loop = 0; loop < 2000; loop++) {
        int count = 1 + loop % 37;
        AtomicIntegerArray runs = new AtomicIntegerArray(count);
        pool.forEach(count, (task, worker) -> {
          assertTrue(worker >= 0 && worker < 3, "worker index " + worker);
          runs.incrementAndGet(task);
        });
        for (int t = 0; t < count; t++) {
          assertEquals(1, runs.get(t), "loop " + loop + " task " + t);
        }
      }
    }
  }

  @Test
  void aFailingTaskIsRethrownAfterTheOthersRan() {
    try (WorkerPool pool = new WorkerPool(2, "test-pool")) {
      IllegalStateException boom = new IllegalStateException("boom");
      AtomicIntegerArray runs = new AtomicIntegerArray(64);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.forEach(64, (task, worker) -> {
        runs.incrementAndGet(task);
        if (task == 5) {
          throw boom;
        }
      }));
      assertSame(boom, e);
      for (int t = 0; t < 64; t++) {
        assertEquals(1, runs.get(t));
      }
      pool.forEach(4, (task, worker) -> {}); // still usable
    }
  }

  @Test
  void closeStopsTheWorkersAndRefusesNewLoops() throws InterruptedException {
    WorkerPool pool = new WorkerPool(2, "test-pool-close");
    pool.forEach(8, (task, worker) -> {});
    pool.close();
    assertThrows(IllegalStateException.class, () -> pool.forEach(2, (task, worker) -> {}));
    Thread.sleep(50);
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      assertFalse(t.getName().startsWith("test-pool-close-") && t.isAlive(), "worker " + t.getName() + " still alive");
    }
  }
}
