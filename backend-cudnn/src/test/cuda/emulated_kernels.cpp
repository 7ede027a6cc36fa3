// mspx_kernels.cu compiled for the CPU (see cuda_emulation.h), with a launcher that unpacks the
// driver-style kernelParams (void**, one pointer per argument) by each kernel's own parameter types,
// as cuLaunchKernel does. Built and loaded by KernelEmulationTest; never shipped.
#include "cuda_emulation.h"

#include <cstddef>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "mspx_kernels.cu"

namespace {

template <typename... A, std::size_t... I>
void call_with(void (*kernel)(A...), void** params, std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_cv_t<A>*>(params[I])...);
}

template <typename... A>
void invoke(void (*kernel)(A...), void** params) {
  call_with(kernel, params, std::index_sequence_for<A...>{});
}

struct Entry {
  const char* name;
  void (*run)(void**);
  bool barriers;  // uses __syncthreads: its threads must run concurrently
};

#define KERNEL(name, barriers) {#name, [](void** p) { invoke(name, p); }, barriers}

const Entry ENTRIES[] = {
    KERNEL(mspx_fill_u32, false),
    KERNEL(mspx_mask_multiply, false),
    KERNEL(mspx_add, false),
    KERNEL(mspx_scale, false),
    KERNEL(mspx_add_channel_bias, false),
    KERNEL(mspx_dequantize, false),
    KERNEL(mspx_gate_forward, false),
    KERNEL(mspx_gate_backward, false),
    KERNEL(mspx_space_depth_u8, false),
    KERNEL(mspx_space_depth_u32, false),
    KERNEL(mspx_softmax_xent, false),
    KERNEL(mspx_softmax_xent_backward, false),
    KERNEL(mspx_sample_categorical, false),
    KERNEL(mspx_embedding_lookup, false),
    KERNEL(mspx_embedding_backward, false),
    KERNEL(mspx_matmul, true),
    KERNEL(mspx_sum_spatial, true),
    KERNEL(mspx_reduce_partial, true),
    KERNEL(mspx_reduce_final, true),
    KERNEL(mspx_adam, false),
};

const Entry* find(const char* name) {
  for (const Entry& e : ENTRIES) {
    if (std::strcmp(e.name, name) == 0) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace

// Runs one launch to completion. Returns 0, or -1 for an unknown kernel name.
extern "C" int emu_launch(const char* name, int grid_x, int grid_y, int block_x, int block_y, void** params) {
  const Entry* e = find(name);
  if (e == nullptr) {
    return -1;
  }
  gridDim = dim3{(unsigned)grid_x, (unsigned)grid_y, 1};
  blockDim = dim3{(unsigned)block_x, (unsigned)block_y, 1};
  if (!e->barriers) {
    for (int by = 0; by < grid_y; by++) {
      for (int bx = 0; bx < grid_x; bx++) {
        blockIdx = dim3{(unsigned)bx, (unsigned)by, 1};
        for (int ty = 0; ty < block_y; ty++) {
          for (int tx = 0; tx < block_x; tx++) {
            threadIdx = dim3{(unsigned)tx, (unsigned)ty, 1};
            e->run(params);
          }
        }
      }
    }
    return 0;
  }
  // One OS thread per thread of a block, for the whole launch: they run the blocks one after
  // another, meeting at the barrier after each, so no block's shared memory is reused too early.
  std::barrier<> barrier(block_x * block_y);
  std::vector<std::thread> threads;
  for (int ty = 0; ty < block_y; ty++) {
    for (int tx = 0; tx < block_x; tx++) {
      threads.emplace_back([&, tx, ty] {
        threadIdx = dim3{(unsigned)tx, (unsigned)ty, 1};
        emu_barrier = &barrier;
        for (int by = 0; by < grid_y; by++) {
          for (int bx = 0; bx < grid_x; bx++) {
            blockIdx = dim3{(unsigned)bx, (unsigned)by, 1};
            e->run(params);
            barrier.arrive_and_wait();
          }
        }
      });
    }
  }
  for (std::thread& t : threads) {
    t.join();
  }
  return 0;
}
