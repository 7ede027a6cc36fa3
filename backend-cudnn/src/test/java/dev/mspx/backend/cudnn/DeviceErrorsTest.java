package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DeviceErrorsTest {

  @Test
  void aTargetNotBelowLevelsIsNamedWithItsIndexValueAndLimit() {
    assertEquals(
        "cudnn: an op issued since the last synchronisation found bad input: a target sub-pixel"
            + " (uint8 element 17 of the targets) is 200, not below L = 2 (softmaxCrossEntropy or its"
            + " backward); targets must hold levels 0..L-1; the outputs of that op are NaN",
        DeviceErrors.describe(DeviceErrors.TARGET_NOT_BELOW_LEVELS, 17, 200, 2).getMessage());
  }

  @Test
  void anEmbeddingIndexOutOfRangeIsNamed() {
    // The kernel stores the int index sign-extended into 64 bits.
    assertEquals(
        "cudnn: an op issued since the last synchronisation found bad input: an embedding index"
            + " (element 3 of the indices) is -1, outside the table's rows 0..9 (embeddingLookup or"
            + " embeddingBackward); the outputs of that op are NaN",
        DeviceErrors.describe(DeviceErrors.INDEX_OUT_OF_RANGE, 3, -1L, 10).getMessage());
  }

  @Test
  void anUnknownKindIsStillReported() {
    assertEquals(
        "cudnn: an op issued since the last synchronisation found bad input: a kernel reported error"
            + " kind 9 (index 1, value 2, limit 3), unknown to this version of mspx; the outputs of"
            + " that op are NaN",
        DeviceErrors.describe(9, 1, 2, 3).getMessage());
  }
}
