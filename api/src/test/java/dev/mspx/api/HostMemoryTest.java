package dev.mspx.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

class HostMemoryTest {

  @Test
  void allocationsAreZeroedAndAccounted() {
    try (HostMemory mem = HostMemory.create("test")) {
      try (HostTensor t = mem.allocate(Shape.of(2, 3), DType.FLOAT32, "t")) {
        assertEquals(24, mem.outstandingBytes());
        assertEquals(1, mem.outstandingTensors());
        for (float v : t.toFloatArray()) {
          assertEquals(0f, v);
        }
        t.setFloat(4, 2.5f);
        assertEquals(2.5f, t.getFloat(4));
      }
      assertEquals(0, mem.outstandingBytes());
      assertEquals(0, mem.outstandingTensors());
    }
  }

  @Test
  void closingWithOpenTensorsNamesThem() {
    HostMemory mem = HostMemory.create("leaky");
    mem.allocate(Shape.of(4), DType.FLOAT32, "kept.weight");
    try (HostTensor closed = mem.allocate(Shape.of(8), DType.UINT8, "closed.image")) {
      closed.setUnsignedByte(0, 255);
    }
    MemoryLeakException e = assertThrows(MemoryLeakException.class, mem::close);
    assertEquals(1, e.leaked().size());
    assertEquals(16, e.bytes());
    assertTrue(e.getMessage().contains("kept.weight float32[4]"), e.getMessage());
    assertTrue(e.getMessage().contains("leaky"), e.getMessage());
  }

  @Test
  void closedTensorRefusesAccess() {
    try (HostMemory mem = HostMemory.create("test")) {
      HostTensor t = mem.allocate(Shape.of(1), DType.INT32, "x");
      t.close();
      t.close(); // twice is harmless
      IllegalStateException e = assertThrows(IllegalStateException.class, t::segment);
      assertTrue(e.getMessage().contains("x int32[1] is closed"), e.getMessage());
    }
  }

  @Test
  void wrapSharesArrowMemoryWithoutCopying() {
    try (BufferAllocator root = new RootAllocator();
        HostMemory mem = HostMemory.childOf(root, "wrapper")) {
      ArrowBuf buf = root.buffer(16);
      buf.setZero(0, 16);
      buf.setFloat(8, 7f);
      try (HostTensor view = mem.wrap(buf, 8, Shape.of(2), DType.FLOAT32, "column")) {
        buf.close(); // the tensor keeps the buffer alive
        assertEquals(7f, view.getFloat(0));
        view.setFloat(1, 3f);
        assertEquals(3f, view.getFloat(1));
      }
      assertEquals(0, root.getAllocatedMemory());
    }
  }

  @Test
  void wrapOutsideTheBufferIsRefused() {
    try (BufferAllocator root = new RootAllocator();
        HostMemory mem = HostMemory.childOf(root, "wrapper");
        ArrowBuf buf = root.buffer(8)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> mem.wrap(buf, 4, Shape.of(2), DType.FLOAT32, "x"));
      assertTrue(e.getMessage().contains("needs bytes [4, 12)"), e.getMessage());
    }
  }

  @Test
  void accessorsCheckTheDtype() {
    try (HostMemory mem = HostMemory.create("test");
        HostTensor t = mem.allocate(Shape.of(3), DType.UINT8, "img")) {
      t.copyFrom(new byte[] {1, (byte) 200, 3});
      assertEquals(200, t.getUnsignedByte(1));
      assertEquals(200.0, t.getAsDouble(1));
      assertThrows(IllegalArgumentException.class, () -> t.getFloat(0));
      assertThrows(IllegalArgumentException.class, () -> t.setUnsignedByte(0, 256));
      assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new byte[2]));
      assertArrayEquals(new byte[] {1, (byte) 200, 3}, t.toByteArray());
    }
  }
}
