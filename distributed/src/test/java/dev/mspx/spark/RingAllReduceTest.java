package dev.mspx.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The ring all-reduce between threads of this JVM over loopback sockets, with {@code allGather} played
 * by a barrier: every replica ends with the same bits, which are each chunk's sum in the documented
 * order ({@code g[c] + g[c+1] + ... + g[c-1]}, left to right).
 */
class RingAllReduceTest {

  /** Plays BarrierTaskContext.allGather for replicas that are threads. */
  static final class Gather {
    final String[] messages;
    final CyclicBarrier barrier;

    Gather(int replicas) {
      messages = new String[replicas];
      barrier = new CyclicBarrier(replicas);
    }

    Function<String, List<String>> of(int rank) {
      return message -> {
        messages[rank] = message;
        try {
          barrier.await();
          List<String> all = List.copyOf(Arrays.asList(messages));
          barrier.await();
          return all;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
    }
  }

  static float[][] run(float[][] inputs, int rounds) throws Exception {
    int r = inputs.length;
    Gather gather = new Gather(r);
    ExecutorService pool = Executors.newFixedThreadPool(r);
    try {
      List<Future<float[]>> results = new ArrayList<>();
      for (int rank = 0; rank < r; rank++) {
        int me = rank;
        results.add(pool.submit(() -> {
          try (RingAllReduce ring = RingAllReduce.connect(me, r, "127.0.0.1", gather.of(me), () -> false, 20_000)) {
            float[] data = null;
            for (int k = 0; k < rounds; k++) {
              data = inputs[me].clone();
              ring.allReduce(data);
            }
            return data;
          }
        }));
      }
      float[][] out = new float[r][];
      for (int rank = 0; rank < r; rank++) {
        out[rank] = results.get(rank).get();
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Chunk c of n elements in R chunks starts at floor(n·c/R); its sum starts at rank c. */
  static float[] expected(float[][] g) {
    int r = g.length, n = g[0].length;
    float[] out = new float[n];
    for (int c = 0; c < r; c++) {
      int from = (int) ((long) n * c / r), to = (int) ((long) n * (c + 1) / r);
      for (int i = from; i < to; i++) {
        float s = g[c][i];
        for (int k = 1; k < r; k++) {
          s = s + g[(c + k) % r][i];
        }
        out[i] = s;
      }
    }
    return out;
  }

  static float[][] inputs(int replicas, int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] g = new float[replicas][n];
    for (float[] row : g) {
      for (int i = 0; i < n; i++) {
        // Magnitudes over many binades, so that the order of the additions shows in the bits.
        row[i] = (float) ((random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-6, 3)));
      }
    }
    return g;
  }

  @Test
  void everyReplicaGetsTheSumInTheDocumentedOrder() throws Exception {
    for (int replicas : new int[] {1, 2, 3, 4}) {
      for (int n : new int[] {1, 3, 1000, 100_003}) {
        float[][] g = inputs(replicas, n, 31L * replicas + n);
        float[][] got = run(g, 2);
        float[] want = expected(g);
        for (int rank = 0; rank < replicas; rank++) {
          assertArrayEquals(want, got[rank], replicas + " replicas, " + n + " elements, rank " + rank);
        }
        if (replicas == 2) {
          float[] plain = new float[n];
          for (int i = 0; i < n; i++) {
            plain[i] = g[0][i] + g[1][i];
          }
          assertArrayEquals(plain, got[0], "two replicas: g0 + g1 exactly, as one process adding its two half-batches");
        }
      }
    }
  }

  @Test
  void aPeerThatDiesFailsTheOthersNamingIt() throws Exception {
    int r = 3;
    Gather gather = new Gather(r);
    ExecutorService pool = Executors.newFixedThreadPool(r);
    try {
      List<Future<String>> outcomes = new ArrayList<>();
      for (int rank = 0; rank < r; rank++) {
        int me = rank;
        outcomes.add(pool.submit(() -> {
          try (RingAllReduce ring = RingAllReduce.connect(me, r, "127.0.0.1", gather.of(me), () -> false, 20_000)) {
            if (me == 1) {
              return "died"; // closes its sockets without taking part
            }
            ring.allReduce(new float[1000]);
            return "finished";
          } catch (RuntimeException e) {
            return e.getMessage();
          }
        }));
      }
      assertEquals("died", outcomes.get(1).get());
      String successor = outcomes.get(2).get();
      assertTrue(successor.contains("replica 1 closed its connection"), successor);
      String other = outcomes.get(0).get();
      assertTrue(other.startsWith("ring all-reduce: replica 0 of 3"), other);
    } finally {
      pool.shutdownNow();
    }
  }
}
