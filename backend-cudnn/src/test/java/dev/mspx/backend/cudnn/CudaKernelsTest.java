package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Java side of every kernel launch, checked without a GPU: the kernel table against the PTX's
 * entry points and parameter types, the packing of launch arguments, and the grid sizes.
 */
class CudaKernelsTest {

  private static final Pattern ENTRY =
      Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)", Pattern.DOTALL);
  private static final Pattern PARAM = Pattern.compile("\\.param (\\.\\w+) \\w+");

  /** Entry name to its parameter types, in order, as the committed PTX declares them. */
  static Map<String, List<String>> ptxEntries(String ptx) {
    Map<String, List<String>> entries = new LinkedHashMap<>();
    Matcher m = ENTRY.matcher(ptx);
    while (m.find()) {
      List<String> types = new ArrayList<>();
      Matcher p = PARAM.matcher(m.group(2));
      while (p.find()) {
        types.add(p.group(1));
      }
      entries.put(m.group(1), types);
    }
    return entries;
  }

  @Test
  void everyKernelOfTheTableIsInThePtxWithTheSameParameterTypes() throws IOException {
    Map<String, List<String>> ptx = ptxEntries(Files.readString(PtxSourceTest.PTX));
    assertEquals(CudaKernel.values().length, ptx.size(), "kernels in the PTX: " + ptx.keySet());
    for (CudaKernel k : CudaKernel.values()) {
      List<String> declared = ptx.get(k.entry);
      assertTrue(declared != null, k.entry + " is not an entry of the PTX: " + ptx.keySet());
      List<String> expected = k.params.stream().map(p -> p.ptxType).toList();
      assertEquals(expected, declared, k.entry + ": CudaKernel's parameters against the PTX's");
    }
  }

  @Test
  void theEntryParserSeesTypesAndOrder() {
    String ptx =
        ".visible .entry mspx_x(\n\t.param .u64 mspx_x_param_0,\n\t.param .f64 mspx_x_param_1,\n"
            + "\t.param .u32 mspx_x_param_2\n)\n{ ret; }";
    assertEquals(Map.of("mspx_x", List.of(".u64", ".f64", ".u32")), ptxEntries(ptx));
  }

  @Test
  void argumentsArePackedInTheirCTypesOnePointerEach() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment params =
          CudaModule.pack(arena, CudaKernel.SCALE, 0x7f00_0000_1000L, 0.25, 0x7f00_0000_2000L, 12345678901L);
      MemorySegment p = params;
      assertEquals(0x7f00_0000_1000L, deref(p, 0).get(JAVA_LONG, 0));
      assertEquals(0.25, deref(p, 1).get(JAVA_DOUBLE, 0));
      assertEquals(0x7f00_0000_2000L, deref(p, 2).get(JAVA_LONG, 0));
      assertEquals(12345678901L, deref(p, 3).get(JAVA_LONG, 0));

      MemorySegment q =
          CudaModule.pack(arena, CudaKernel.DEQUANTIZE, 1L, 2L, 3L, 256);
      assertEquals(256, deref(q, 3).get(JAVA_INT, 0));
    }
  }

  @Test
  void wrongArgumentsAreRefusedBeforeAnyLaunch() {
    try (Arena arena = Arena.ofConfined()) {
      IllegalArgumentException count =
          assertThrows(IllegalArgumentException.class, () -> CudaModule.pack(arena, CudaKernel.ADD, 1L, 2L, 3L));
      assertTrue(count.getMessage().contains("mspx_add takes 4 arguments"), count.getMessage());
      IllegalArgumentException type =
          assertThrows(
              IllegalArgumentException.class,
              () -> CudaModule.pack(arena, CudaKernel.DEQUANTIZE, 1L, 2L, 3L, 256L));
      assertTrue(type.getMessage().contains("argument 3 must be I32, passed as a Java Integer; got Long 256"), type.getMessage());
    }
  }

  @Test
  void gridStrideLaunchesAreSizedAndCapped() {
    assertEquals(1, CudaModule.blocksFor(1));
    assertEquals(1, CudaModule.blocksFor(CudaKernel.THREADS));
    assertEquals(2, CudaModule.blocksFor(CudaKernel.THREADS + 1));
    assertEquals(CudaModule.MAX_BLOCKS, CudaModule.blocksFor(Long.MAX_VALUE / 2));
  }

  @Test
  void blockSizesMatchTheKernelSource() throws IOException {
    String cu = Files.readString(PtxSourceTest.SOURCE);
    assertTrue(cu.contains("#define REDUCE_THREADS " + CudaKernel.REDUCE_THREADS + "\n"));
    assertTrue(cu.contains("#define TILE " + CudaKernel.MATMUL_TILE + "\n"));
    assertTrue(cu.contains("#define ERROR_TARGET_NOT_BELOW_LEVELS " + DeviceErrors.TARGET_NOT_BELOW_LEVELS + "ULL\n"));
    assertTrue(cu.contains("#define ERROR_INDEX_OUT_OF_RANGE " + DeviceErrors.INDEX_OUT_OF_RANGE + "ULL\n"));
  }

  // Reading back through the packed pointers is what the driver does.
  @SuppressWarnings("restricted")
  private static MemorySegment deref(MemorySegment pointers, int i) {
    return pointers.getAtIndex(ADDRESS, i).reinterpret(8);
  }
}
