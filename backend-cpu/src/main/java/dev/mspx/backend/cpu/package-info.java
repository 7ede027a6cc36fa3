/**
 * The CPU backends. {@link dev.mspx.backend.cpu.CpuReferenceBackend} implements every op of the SPI as
 * plain, obviously correct loops with double accumulation: it is the oracle that every other backend is
 * checked against (DESIGN.md section 4), and it is not meant to be fast. {@link
 * dev.mspx.backend.cpu.CpuVectorBackend} is the fast one: Vector API kernels (an implicit-GEMM
 * convolution with a register-tiled FMA micro-kernel) on a small thread pool. {@link
 * dev.mspx.backend.cpu.CpuKernels} chooses between them at start-up and says why; {@link
 * dev.mspx.backend.cpu.CpuBackendProvider} exposes that choice to {@code BackendSelection} (and so to
 * {@code dev.mspx.core.BackendModule}, the one route from a name to a backend).
 */
package dev.mspx.backend.cpu;
