package dev.mspx.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.DType;
import dev.mspx.api.Shape;
import dev.mspx.api.Workspace;
import org.junit.jupiter.api.Test;

/**
 * The size arithmetic of CPU workspaces: a block over 2 GiB (a large batch's arena) has a shape that
 * covers it (before, {@code Math.toIntExact} overflowed with a stack trace), and a view that one
 * tensor's int offsets could not address is refused by name. No test allocates gigabytes: the
 * arithmetic is checked directly, and a small workspace checks the views.
 */
class CpuWorkspaceSizeTest {

  @Test
  void blocksOverTwoGibibytesAreRowsOfOneMebibyte() {
    assertEquals(Shape.of(1000), CpuWorkspace.blockShape(1000, "w"));
    assertEquals(Shape.of(Integer.MAX_VALUE), CpuWorkspace.blockShape(Integer.MAX_VALUE, "w"));
    long bytes = 2_500_000_000L;
    Shape s = CpuWorkspace.blockShape(bytes, "w");
    assertEquals(2, s.rank());
    assertTrue(s.elements() >= bytes && s.elements() - bytes < CpuWorkspace.ROW, s.toString());
    long huge = 5L << 40; // 5 TiB: still a shape; the allocation is what fails, with its own message
    assertTrue(CpuWorkspace.blockShape(huge, "w").elements() >= huge);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuWorkspace.blockShape(0, "arena[3]"));
    assertTrue(e.getMessage().contains("workspace arena[3]"), e.getMessage());
  }

  @Test
  void aViewLargerThanOneTensorMayBeIsRefusedByName() {
    try (CpuReferenceBackend backend = new CpuReferenceBackend(); Workspace w = backend.workspace(4096, "small")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> w.view(0, Shape.of(600_000_000, 1), DType.FLOAT32, "giant"));
      assertTrue(e.getMessage().contains("view giant") && e.getMessage().contains("use a smaller batch"), e.getMessage());
    }
  }
}
