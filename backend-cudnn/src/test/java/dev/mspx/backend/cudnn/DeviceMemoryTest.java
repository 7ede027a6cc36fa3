package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.DType;
import dev.mspx.api.MemoryOwner;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Device tensors and workspaces as bookkeeping, on fake addresses: views, bounds, alignment, and
 * what closing means. (The conformance suite checks the same against real GPU memory.)
 */
class DeviceMemoryTest {

  private static final MemoryOwner OWNER =
      new MemoryOwner() {
        @Override
        public String name() {
          return "fake-device";
        }

        @Override
        public long outstandingBytes() {
          return 0;
        }
      };

  private final AtomicInteger released = new AtomicInteger();

  private DeviceWorkspace workspace(long bytes) {
    return new DeviceWorkspace(OWNER, "arena", 0x1000_0000L, bytes, released::incrementAndGet);
  }

  @Test
  void viewsSitAtTheirOffsetAndOwnNothing() {
    try (DeviceWorkspace ws = workspace(1024)) {
      DeviceTensor v = (DeviceTensor) ws.view(128, Shape.of(4, 8), DType.FLOAT32, "slot");
      assertEquals(0x1000_0000L + 128, v.address());
      assertEquals("slot float32[4, 8]", v.describe());
      v.close();
      assertTrue(v.isClosed());
      assertEquals(0, released.get(), "closing a view frees nothing");
    }
    assertEquals(1, released.get(), "closing the workspace frees it once");
  }

  @Test
  void aViewOfAClosedWorkspaceIsClosedAndHasNoAddress() {
    DeviceWorkspace ws = workspace(256);
    DeviceTensor v = (DeviceTensor) ws.view(0, Shape.of(4), DType.INT32, "stale");
    assertFalse(v.isClosed());
    ws.close();
    ws.close();
    assertEquals(1, released.get(), "closing twice frees once");
    assertTrue(v.isClosed(), "a view must not outlive its workspace");
    IllegalStateException e = assertThrows(IllegalStateException.class, v::address);
    assertTrue(e.getMessage().contains("stale int32[4] is closed"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> ws.view(0, Shape.of(1), DType.UINT8, "late"));
  }

  @Test
  void misalignedAndOversizedViewsAreRefusedNamingTheView() {
    try (DeviceWorkspace ws = workspace(256)) {
      IllegalArgumentException a =
          assertThrows(
              IllegalArgumentException.class,
              () -> ws.view(Workspace.ALIGNMENT / 2, Shape.of(4), DType.FLOAT32, "misaligned"));
      assertTrue(a.getMessage().contains("view misaligned offset 32 is not a multiple of 64"), a.getMessage());
      IllegalArgumentException b =
          assertThrows(
              IllegalArgumentException.class, () -> ws.view(192, Shape.of(32), DType.FLOAT32, "pastTheEnd"));
      assertTrue(b.getMessage().contains("ends at byte 320, past its 256 bytes"), b.getMessage());
      Tensor exact = ws.view(192, Shape.of(16), DType.FLOAT32, "fits");
      assertEquals(64, exact.byteSize());
    }
  }

  @Test
  void anOwningTensorReleasesOnceOnClose() {
    DeviceTensor t =
        new DeviceTensor(
            Shape.of(2, 3), DType.UINT8, OWNER, "img", 0x2000L, released::incrementAndGet, () -> false);
    assertEquals(0x2000L, t.address());
    t.close();
    t.close();
    assertEquals(1, released.get());
    assertTrue(t.toString().contains("closed"), t.toString());
  }
}
