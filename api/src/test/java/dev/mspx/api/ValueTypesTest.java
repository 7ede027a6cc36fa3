package dev.mspx.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ValueTypesTest {

  @Test
  void shapesAreValues() {
    Shape s = Shape.nchw(2, 3, 4, 5);
    assertEquals(Shape.of(2, 3, 4, 5), s);
    assertEquals(120, s.elements());
    assertEquals(5, s.dim(-1));
    assertEquals(Shape.of(2, 6, 4, 5), s.with(1, 6));
    assertEquals("[2, 3, 4, 5]", s.toString());
    assertNotEquals(Shape.of(2, 3), Shape.of(3, 2));
  }

  @Test
  void badShapesAreRefused() {
    assertThrows(IllegalArgumentException.class, Shape::of);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(2, 0));
    assertTrue(e.getMessage().contains("[2, 0]"), e.getMessage());
    assertThrows(ArithmeticException.class, () -> Shape.of(1 << 30, 1 << 30, 1 << 30));
  }

  @Test
  void convDescriptorsNeedOddKernels() {
    Conv2dOp op = Conv2dOp.of(3, 8, 5);
    assertEquals(Shape.of(8, 3, 5, 5), op.weightShape());
    assertEquals(2, op.padHeight());
    assertEquals(Conv2dOp.of(3, 8, 5, 5), op);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Conv2dOp.of(3, 8, 4));
    assertTrue(e.getMessage().contains("4x4"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Conv2dOp.of(0, 8, 3));
  }

  @Test
  void adamDefaultsAreDesignMds() {
    AdamOp adam = AdamOp.defaults();
    assertEquals(1e-3, adam.learningRate());
    assertEquals(0.9, adam.beta1());
    assertEquals(0.999, adam.beta2());
    assertEquals(1e-8, adam.epsilon());
    assertThrows(IllegalArgumentException.class, () -> AdamOp.of(1e-3, 1.0, 0.999, 1e-8));
    assertThrows(IllegalArgumentException.class, () -> AdamOp.of(Double.NaN, 0.9, 0.999, 1e-8));
  }
}
