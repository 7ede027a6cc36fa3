package dev.mspx.backend.cudnn;

import static dev.mspx.backend.cudnn.CudaKernel.Param.F64;
import static dev.mspx.backend.cudnn.CudaKernel.Param.I32;
import static dev.mspx.backend.cudnn.CudaKernel.Param.I64;
import static dev.mspx.backend.cudnn.CudaKernel.Param.PTR;
import static dev.mspx.backend.cudnn.CudaKernel.Param.U32;

import java.util.List;

/**
 * The kernels of {@code src/main/cuda/mspx_kernels.cu}, each with its entry name and parameter
 * types in order. {@link CudaModule} packs launch arguments by these types, and {@code
 * CudaKernelsTest} checks them against the {@code .entry} declarations of the committed PTX, so a
 * kernel whose signature changed without this table fails the build instead of reading garbage on
 * the GPU.
 */
enum CudaKernel {
  FILL_U32("mspx_fill_u32", PTR, U32, I64),
  MASK_MULTIPLY("mspx_mask_multiply", PTR, PTR, PTR, I64),
  ADD("mspx_add", PTR, PTR, PTR, I64),
  SCALE("mspx_scale", PTR, F64, PTR, I64),
  ADD_CHANNEL_BIAS("mspx_add_channel_bias", PTR, PTR, PTR, I64, I64),
  DEQUANTIZE("mspx_dequantize", PTR, PTR, I64, I32),
  GATE_FORWARD("mspx_gate_forward", PTR, PTR, I64, I64),
  GATE_BACKWARD("mspx_gate_backward", PTR, PTR, PTR, I64, I64),
  SPACE_DEPTH_U8("mspx_space_depth_u8", PTR, PTR, I64, I32, I32, I32, I32, I32),
  SPACE_DEPTH_U32("mspx_space_depth_u32", PTR, PTR, I64, I32, I32, I32, I32, I32),
  SOFTMAX_XENT("mspx_softmax_xent", PTR, PTR, PTR, I64, I32, I64, PTR),
  SOFTMAX_XENT_BACKWARD("mspx_softmax_xent_backward", PTR, PTR, PTR, I64, I32, I64, PTR),
  SAMPLE_CATEGORICAL("mspx_sample_categorical", PTR, PTR, PTR, I64, I32, I64),
  EMBEDDING_LOOKUP("mspx_embedding_lookup", PTR, PTR, PTR, I64, I32, I32, PTR),
  EMBEDDING_BACKWARD("mspx_embedding_backward", PTR, PTR, PTR, I32, I32, I32, PTR),
  MATMUL("mspx_matmul", PTR, PTR, PTR, I32, I32, I32, I32, I32, I32, I32),
  SUM_SPATIAL("mspx_sum_spatial", PTR, PTR, I64),
  REDUCE_PARTIAL("mspx_reduce_partial", PTR, PTR, I64, I32),
  REDUCE_FINAL("mspx_reduce_final", PTR, PTR, I32),
  ADAM("mspx_adam", PTR, PTR, PTR, PTR, I64, F64, F64, F64, F64, F64, F64);

  /** Threads per block of the grid-stride kernels. */
  static final int THREADS = 256;

  /** Block size of the reductions: REDUCE_THREADS in the .cu. */
  static final int REDUCE_THREADS = 256;

  /** Tile side of {@link #MATMUL}: TILE in the .cu. */
  static final int MATMUL_TILE = 16;

  /**
   * A kernel parameter's C type, by how it is passed: its Java carrier and its PTX {@code .param}
   * type (nvcc declares pointers and 64-bit integers {@code .u64}, {@code int} and {@code unsigned}
   * {@code .u32}).
   */
  enum Param {
    /** A device pointer, passed as a {@code long} address. */
    PTR(Long.class, ".u64"),
    I64(Long.class, ".u64"),
    I32(Integer.class, ".u32"),
    U32(Integer.class, ".u32"),
    F64(Double.class, ".f64");

    final Class<?> carrier;
    final String ptxType;

    Param(Class<?> carrier, String ptxType) {
      this.carrier = carrier;
      this.ptxType = ptxType;
    }
  }

  final String entry;
  final List<Param> params;

  CudaKernel(String entry, Param... params) {
    this.entry = entry;
    this.params = List.of(params);
  }
}
