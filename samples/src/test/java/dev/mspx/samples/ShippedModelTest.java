package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.ModelCatalog;
import dev.mspx.core.data.ImageSet;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What {@code ./mspx demo} relies on is in the repository and fits the compiled model: the shipped
 * checkpoint (parameters only, with its record) and the Fashion-MNIST test split with its licence.
 * When a change to {@code fashion28-labelled} (or to how class conditioning is wired) changes the
 * plan's fingerprint, this fails: re-run {@code samples/shipped/train-shipped.sh}.
 */
class ShippedModelTest {

  @Test
  void theShippedCheckpointFitsTheCompiledModelAndCarriesItsRecord() {
    Path file = Shipped.model();
    assertTrue(Files.isRegularFile(file), "missing " + file);
    Checkpoint cp = Checkpoint.read(file);
    assertEquals("fashion28-labelled", cp.modelName());
    assertFalse(cp.isTraining(), "shipped as an inference checkpoint: parameters only");
    ExecutionPlan plan = ModelCatalog.load().plan("fashion28-labelled");
    cp.checkFits(plan, file); // throws, naming both fingerprints, when the model changed: re-run train-shipped.sh
    assertEquals(plan.parameters().size(), cp.tensors().size(), "no optimiser state");
    assertTrue(cp.step() > 0);
    assertEquals("10000", cp.metadata().get(CheckpointFacts.TEST_IMAGES), "scored on the whole test split");
    double bitsPerDim = Double.parseDouble(cp.metadata().get(CheckpointFacts.TEST_BITS_PER_DIM));
    assertTrue(bitsPerDim > 2 && bitsPerDim < 4, "a trained model: " + bitsPerDim);
    assertEquals(CheckpointFacts.FASHION_CLASSES, CheckpointFacts.classNames(cp.metadata(), 10));
  }

  @Test
  void theShippedTestSplitIsFashionMnistsWithItsLicence() throws Exception {
    try (ImageSet test = Shipped.fashionTest()) {
      assertEquals(10_000, test.size());
      assertEquals(10, test.classes());
      assertEquals(9, test.label(0), "Fashion-MNIST's first test image is an ankle boot");
      assertEquals(2, test.label(1), "and its second a pullover");
    }
    String licence = Files.readString(Shipped.folder().resolve("fashion-mnist/LICENSE"));
    assertTrue(licence.contains("MIT License") && licence.contains("Zalando SE"), licence);
  }
}
