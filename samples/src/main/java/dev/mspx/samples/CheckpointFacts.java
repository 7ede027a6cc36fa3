package dev.mspx.samples;

import java.util.List;

/**
 * What the command line records in a checkpoint's metadata besides the model, the step and the
 * optimiser's entries: the training data, the latest held-out test bits/dim and on how many images at
 * which step, and class names where the data has them. {@code mspx checkpoint show} prints them.
 */
final class CheckpointFacts {

  static final String DATA = "mspx.data";
  static final String TEST_BITS_PER_DIM = "mspx.test_bits_per_dim";
  static final String TEST_IMAGES = "mspx.test_images";
  static final String TEST_STEP = "mspx.test_step";
  static final String CLASS_NAMES = "mspx.class_names";
  static final String TRAINING_SECONDS = "mspx.training_seconds";

  /** Fashion-MNIST's ten classes, in label order (Xiao et al. 2017). */
  static final List<String> FASHION_CLASSES =
      List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

  private CheckpointFacts() {}

  /** The class names a checkpoint records, or {@code class 0}, {@code class 1}, … for {@code classes} classes. */
  static List<String> classNames(java.util.Map<String, String> metadata, int classes) {
    String names = metadata.get(CLASS_NAMES);
    if (names != null) {
      List<String> list = List.of(names.split(","));
      if (list.size() == classes) {
        return list;
      }
    }
    return java.util.stream.IntStream.range(0, classes).mapToObj(i -> "class " + i).toList();
  }
}
