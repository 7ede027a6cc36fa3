package dev.mspx.testing.masking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import org.junit.jupiter.api.Test;

/** The receptive fields of DESIGN.md and the peer's checks, on hand-worked positions. */
class ReceptiveFieldTest {

  @Test
  void gatedFieldIsRowsAboveWithinReachRowLeftAndOwnEarlierChannels() {
    // 2 layers of kernel 3: reach 2.
    ReceptiveField rf = new ReceptiveField(ModelSpec.raster("R", 3, 4, 6, new GatedSpec(2, 6, 3)));
    assertEquals(2, rf.gatedReach());
    assertTrue(rf.reaches(0, 3, 3, 2, 1, 1)); // two rows up, two columns left: corner of the field
    assertTrue(rf.reaches(0, 3, 3, 0, 2, 5)); // one row up, two columns right
    assertFalse(rf.reaches(0, 3, 3, 0, 0, 3)); // three rows up: beyond the reach
    assertFalse(rf.reaches(0, 3, 3, 0, 2, 0)); // three columns left
    assertTrue(rf.reaches(0, 3, 3, 1, 3, 1)); // same row, two left, any channel
    assertFalse(rf.reaches(0, 3, 3, 0, 3, 4)); // same row, right: the future
    assertTrue(rf.reaches(2, 3, 3, 1, 3, 3)); // own pixel, earlier channel
    assertFalse(rf.reaches(1, 3, 3, 1, 3, 3)); // own channel
    assertFalse(rf.reaches(1, 3, 3, 2, 3, 3)); // later channel
  }

  @Test
  void groupFieldIsEarlierGroupsWithinReachAndOwnEarlierChannels() {
    // size 8 from base 2: upscalings 2 -> 4 (k = 0) and 4 -> 8 (k = 1); one residual block: reach 3.
    ModelSpec spec = ModelSpec.multiscale("M", 3, 4, 8, 2, new GatedSpec(1, 3, 3), UpscaleSpec.typeA(3, 1));
    ReceptiveField rf = new ReceptiveField(spec);
    assertEquals(3, rf.groupReach());
    // (1, 1) at full size is G4 of upscaling 1 at (0, 0).
    assertEquals(new ReceptiveField.Site(1, 4, 0, 0), rf.site(1, 1));
    assertEquals(new ReceptiveField.Site(1, 3, 0, 0), rf.site(1, 0));
    assertEquals(new ReceptiveField.Site(0, 2, 0, 0), rf.site(0, 2));
    assertEquals(new ReceptiveField.Site(-1, 1, 1, 1), rf.site(4, 4));
    assertNull(rf.atScale(0, 1, 1)); // not a pixel of x_4
    assertTrue(rf.reaches(0, 1, 1, 2, 1, 0)); // G3, same group pixel
    assertTrue(rf.reaches(0, 1, 1, 1, 6, 6)); // G1 at (3, 3): within 3
    assertTrue(rf.reaches(2, 1, 1, 1, 1, 1)); // own pixel, channel 1 < 2
    assertFalse(rf.reaches(1, 1, 1, 1, 1, 1)); // own channel
    assertFalse(rf.reaches(0, 1, 1, 0, 3, 3)); // G4 at (1, 1): own group, other pixel
    assertFalse(rf.reaches(0, 1, 0, 0, 1, 1)); // G3 does not see G4
    assertFalse(rf.reaches(0, 0, 1, 0, 1, 0)); // G2 does not see G3
    assertTrue(rf.reaches(0, 0, 1, 0, 0, 0)); // G2 sees G1
  }

  @Test
  void groupReachIsClippedByDistance() {
    // 2 -> 4 -> 8 -> 16, no residual block: reach 1.
    ModelSpec spec = ModelSpec.multiscale("M", 1, 2, 16, 2, new GatedSpec(1, 1, 1), UpscaleSpec.typeA(1, 0));
    ReceptiveField rf = new ReceptiveField(spec);
    assertTrue(rf.reaches(0, 1, 1, 0, 2, 2)); // G1 of upscaling 2 at (1, 1): distance 1
    assertFalse(rf.reaches(0, 1, 1, 0, 4, 4)); // at (2, 2): distance 2
  }
}
