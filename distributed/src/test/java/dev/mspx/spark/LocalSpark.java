package dev.mspx.spark;

import dev.mspx.core.data.ArrowImageFile;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** Spark in local mode inside the test JVM (two task slots, loopback only, no web UI), and test data. */
final class LocalSpark {

  private LocalSpark() {}

  static JavaSparkContext start(String name) {
    SparkConf conf = new SparkConf()
        .setMaster("local[2]")
        .setAppName(name)
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false");
    JavaSparkContext sc = new JavaSparkContext(conf);
    sc.setLogLevel("ERROR");
    return sc;
  }

  /**
   * {@code n} fashion28-shaped images (1×28×28, levels 0..255) with structure a model can learn: a
   * bright blob on a dark ground, at a random place and size, with a little noise.
   */
  static byte[] images(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] out = new byte[n * 28 * 28];
    for (int b = 0; b < n; b++) {
      int cy = 6 + r.nextInt(16), cx = 6 + r.nextInt(16), radius = 3 + r.nextInt(6);
      for (int y = 0; y < 28; y++) {
        for (int x = 0; x < 28; x++) {
          int d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
          int v = d2 <= radius * radius ? 200 + r.nextInt(56) : r.nextInt(24);
          out[(b * 28 + y) * 28 + x] = (byte) v;
        }
      }
    }
    return out;
  }

  /** A prepared data pair {@code tiny-train.arrow} (train) and {@code tiny-test.arrow} in {@code dir}. */
  static Path data(Path dir, int train, int test) {
    Path file = dir.resolve("tiny-train.arrow");
    ArrowImageFile.write(file, 1, 28, 28, images(train, 1), null, 0, "spark test blobs (train)");
    ArrowImageFile.write(dir.resolve("tiny-test.arrow"), 1, 28, 28, images(test, 2), null, 0, "spark test blobs (test)");
    return file;
  }
}
