// Just enough of CUDA C++ to run mspx_kernels.cu on the CPU, for KernelEmulationTest: a block is
// blockDim.x * blockDim.y OS threads (with a barrier for __syncthreads) when the kernel needs one,
// else its threads run one after another; blocks run one after another. __shared__ arrays become
// function statics, which is right while one block runs at a time. Slow, and only for checking
// what the kernels compute and what the host passes them, never for timing.
#pragma once

#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <math.h>

struct dim3 {
  unsigned int x = 1, y = 1, z = 1;
};

inline thread_local dim3 threadIdx;
inline thread_local dim3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;
inline thread_local std::barrier<>* emu_barrier = nullptr;

#define __global__
#define __device__
#define __shared__ static

inline void __syncthreads() {
  if (emu_barrier == nullptr) {
    std::fprintf(stderr, "cuda_emulation: __syncthreads in a kernel registered without barriers\n");
    std::abort();
  }
  emu_barrier->arrive_and_wait();
}

inline unsigned long long atomicCAS(unsigned long long* address, unsigned long long compare, unsigned long long value) {
  __atomic_compare_exchange_n(address, &compare, value, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return compare;  // the old value, as CUDA's atomicCAS returns
}

inline float __int_as_float(int bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
