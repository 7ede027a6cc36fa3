/**
 * The cuDNN backend: {@link dev.mspx.backend.cudnn.CudnnBackend}, the Backend SPI on an NVIDIA GPU
 * through cuDNN 9 and mspx's own CUDA kernels (committed PTX), called through the jextract bindings
 * of {@code dev.mspx.backend.cudnn.bindings}, with no native code to compile. {@link
 * dev.mspx.backend.cudnn.CudnnBackendProvider} finds the libraries without ever downloading anything
 * ({@code CudnnLibraries}, one documented order), checks versions, sub-libraries and devices, opens
 * the GPU, and reports exactly why the backend cannot run where it cannot ({@code
 * dev.mspx.core.BackendModule.select("cudnn")} binds it in a model's injector). Failed CUDA and cuDNN calls throw
 * {@link dev.mspx.backend.cudnn.CudaException} and {@link dev.mspx.backend.cudnn.CudnnException}.
 */
package dev.mspx.backend.cudnn;
