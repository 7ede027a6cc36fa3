package dev.mspx.core.data;

import java.util.Objects;

/**
 * A training set and a test set of the same image shape. Closing it closes both (a set given twice
 * is closed once).
 */
public record Splits(ImageSet train, ImageSet test) implements AutoCloseable {

  public Splits {
    Objects.requireNonNull(train, "train");
    Objects.requireNonNull(test, "test");
    if (train.channels() != test.channels()
        || train.height() != test.height()
        || train.width() != test.width()) {
      throw new IllegalArgumentException(
          "train and test images differ in shape: "
              + train.describe()
              + " versus "
              + test.describe());
    }
  }

  @Override
  public void close() {
    try {
      train.close();
    } finally {
      test.close();
    }
  }
}
