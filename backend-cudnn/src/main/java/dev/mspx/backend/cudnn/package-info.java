/**
 * The cuDNN backend. For now: finding libcudnn and the CUDA runtime on this machine without ever
 * downloading anything ({@link dev.mspx.backend.cudnn.CudnnLibraries}, one documented order),
 * probing them through the Foreign Function and Memory API, and reporting exactly why the backend
 * cannot run ({@link dev.mspx.backend.cudnn.CudnnBackendProvider}). The compute backend, on
 * jextract-generated bindings, comes with the cuDNN backend issue.
 */
package dev.mspx.backend.cudnn;
