package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What a failed native call reads like (the statuses themselves come from the libraries). */
class NativeExceptionsTest {

  @Test
  void aCudnnErrorNamesTheCallTheStatusAndCudnnsOwnAccount() {
    CudnnException e =
        new CudnnException(
            "cudnnConvolutionForward(conv2d(3->64, 5x5) at [32, 3, 28, 28], algo 1) into y float32[32, 64, 28, 28]",
            3,
            "CUDNN_STATUS_BAD_PARAM",
            "CUDNN_BACKEND_API_FAILED; Reason: workspace too small\n");
    assertEquals(
        "cudnnConvolutionForward(conv2d(3->64, 5x5) at [32, 3, 28, 28], algo 1) into y float32[32, 64, 28, 28]:"
            + " cuDNN status 3 CUDNN_STATUS_BAD_PARAM; cuDNN says: CUDNN_BACKEND_API_FAILED; Reason:"
            + " workspace too small",
        e.getMessage());
    assertEquals(3, e.status());
    assertEquals("CUDNN_STATUS_BAD_PARAM", e.statusName());
  }

  @Test
  void anEmptyLastErrorIsLeftOut() {
    assertEquals(
        "cudnnCreate: cuDNN status 4001 CUDNN_STATUS_INTERNAL_ERROR",
        new CudnnException("cudnnCreate", 4001, "CUDNN_STATUS_INTERNAL_ERROR", " ").getMessage());
  }

  @Test
  void cudaErrorsSayWhichApiAndWhatToDo() {
    CudaException runtime =
        new CudaException(
            CudaException.Api.RUNTIME,
            "cudaMalloc(4194304 bytes for conv.y float32[32, 64, 28, 28])",
            2,
            "cudaErrorMemoryAllocation",
            "out of memory",
            "the GPU is out of memory");
    assertEquals(
        "cudaMalloc(4194304 bytes for conv.y float32[32, 64, 28, 28]): CUDA error 2 cudaErrorMemoryAllocation"
            + " (out of memory); the GPU is out of memory",
        runtime.getMessage());
    CudaException driver =
        new CudaException(
            CudaException.Api.DRIVER,
            "cuModuleLoadDataEx(mspx_kernels.ptx)",
            Status.DRIVER_UNSUPPORTED_PTX_VERSION,
            "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
            "the provided PTX was compiled with an unsupported toolchain.",
            "");
    assertEquals(
        "cuModuleLoadDataEx(mspx_kernels.ptx): CUDA driver error 222 CUDA_ERROR_UNSUPPORTED_PTX_VERSION (the"
            + " provided PTX was compiled with an unsupported toolchain.)",
        driver.getMessage());
    assertEquals(CudaException.Api.DRIVER, driver.api());
  }
}
