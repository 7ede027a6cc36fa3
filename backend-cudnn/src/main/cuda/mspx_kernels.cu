// The CUDA kernels of mspx's cuDNN backend: every op of the Backend SPI that cuDNN has not.
//
// Compiled to PTX by build-ptx.sh (nvcc -ptx, no host code); the PTX is committed as a resource and
// loaded at run time through the driver API (cuModuleLoadDataEx), so users never compile anything.
// CudaKernel.java names each kernel with its parameter types; CudaKernelsTest checks them against
// the committed PTX, and PtxSourceTest checks that the PTX was built from this very file.
//
// Semantics are those of the scalar reference (backend-cpu's CpuReferenceBackend), index for index.
// Conventions:
//  - every kernel is a grid-stride loop over its outputs unless it says otherwise, so any grid works;
//    the host launches ceil(n / 256) blocks of 256 threads, capped;
//  - counts are long long (a 512x512 logits tensor has more than 2^31 bytes);
//  - sums accumulate in double and in a fixed order, so results do not change from run to run;
//  - bad input values that the host cannot see without a copy (a target >= L, an embedding index
//    out of range) are recorded in the error word (report below) and read by the host at its next
//    synchronisation; the offending outputs are NaN.

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define GRID_STRIDE(i, n) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

// Block size of the reductions (sum_spatial, reduce_*): must match CudaKernel.REDUCE_THREADS.
#define REDUCE_THREADS 256
// Tile side of matmul: must match CudaKernel.MATMUL_TILE.
#define TILE 16

// Error kinds of the error word; CudnnBackend decodes them (DeviceErrors.java).
#define ERROR_TARGET_NOT_BELOW_LEVELS 1ULL
#define ERROR_INDEX_OUT_OF_RANGE 2ULL

// Records the first bad input of a launch sequence: err[0] = kind, err[1] = flat index,
// err[2] = value, err[3] = limit. Later reports are dropped (the first one wins the CAS).
__device__ void report(u64* err, u64 kind, i64 index, i64 value, i64 limit) {
  if (atomicCAS(err, 0ULL, kind) == 0ULL) {
    err[1] = (u64)index;
    err[2] = (u64)value;
    err[3] = (u64)limit;
  }
}

// Sums REDUCE_THREADS doubles of shared memory in a fixed tree order; the result is in s[0].
__device__ void block_sum(double* s) {
  for (unsigned int half = REDUCE_THREADS / 2; half > 0; half >>= 1) {
    __syncthreads();
    if (threadIdx.x < half) {
      s[threadIdx.x] += s[threadIdx.x + half];
    }
  }
  __syncthreads();
}

__device__ float sigmoidf(float v) {
  return 1.0f / (1.0f + expf(-v));
}

// Space-to-depth (to_depth = 1) or its inverse (0) with block b; c, h, w are the space tensor's.
// depth[n, (dy*b + dx)*C + ch, i, j] = space[n, ch, b*i + dy, b*j + dx]. One thread per element
// of the depth tensor, total = N*C*H*W; a bijection, so no two threads write one element.
template <typename T>
__device__ void space_depth(const T* in, T* out, i64 total, int c, int h, int w, int b, int to_depth) {
  int hb = h / b, wb = w / b, bbc = b * b * c;
  GRID_STRIDE(di, total) {
    i64 j = di % wb;
    i64 i = (di / wb) % hb;
    i64 dc = (di / ((i64)wb * hb)) % bbc;
    i64 bn = di / ((i64)wb * hb * bbc);
    i64 dyx = dc / c, ch = dc % c;
    i64 dy = dyx / b, dx = dyx % b;
    i64 si = ((bn * c + ch) * h + (i64)b * i + dy) * w + (i64)b * j + dx;
    if (to_depth) {
      out[di] = in[si];
    } else {
      out[si] = in[di];
    }
  }
}

extern "C" {

// ------------------------------------------------------------------ fill, masks, elementwise

// Sets n 32-bit words to one bit pattern: fill of float32 and int32 tensors alike.
__global__ void mspx_fill_u32(u32* x, u32 bits, i64 n) {
  GRID_STRIDE(i, n) { x[i] = bits; }
}

// out = w * mask: the masked weight of a convolution (out may be w: masking a gradient in place).
__global__ void mspx_mask_multiply(const float* w, const float* mask, float* out, i64 n) {
  GRID_STRIDE(i, n) { out[i] = w[i] * mask[i]; }
}

// out = a + b (out may be a or b).
__global__ void mspx_add(const float* a, const float* b, float* out, i64 n) {
  GRID_STRIDE(i, n) { out[i] = a[i] + b[i]; }
}

// out = alpha * x in double, rounded once, as the reference does (out may be x).
__global__ void mspx_scale(const float* x, double alpha, float* out, i64 n) {
  GRID_STRIDE(i, n) { out[i] = (float)(alpha * (double)x[i]); }
}

// out[n,c,h,w] = x[n,c,h,w] + bias[n,c]; hw = H*W (out may be x).
__global__ void mspx_add_channel_bias(const float* x, const float* bias, float* out, i64 n, i64 hw) {
  GRID_STRIDE(i, n) { out[i] = x[i] + bias[i / hw]; }
}

// out = x * 2/(L-1) - 1 for uint8 levels x, in double as the reference.
__global__ void mspx_dequantize(const u8* x, float* out, i64 n, int levels) {
  GRID_STRIDE(i, n) { out[i] = (float)((double)x[i] * 2.0 / (double)(levels - 1) - 1.0); }
}

// ------------------------------------------------------------------ gated activation

// out[b, c, p] = tanh(pre[b, c, p]) * sigmoid(pre[b, F + c, p]); n = N*F*H*W, fhw = F*H*W.
__global__ void mspx_gate_forward(const float* pre, float* out, i64 n, i64 fhw) {
  GRID_STRIDE(i, n) {
    i64 b = i / fhw;
    i64 r = i - b * fhw;
    float a = pre[2 * b * fhw + r];
    float g = pre[2 * b * fhw + fhw + r];
    out[i] = tanhf(a) * sigmoidf(g);
  }
}

// dpre from pre and dout: d tanh-half = dout * s * (1 - t^2), d sigmoid-half = dout * t * s(1 - s).
__global__ void mspx_gate_backward(const float* pre, const float* dout, float* dpre, i64 n, i64 fhw) {
  GRID_STRIDE(i, n) {
    i64 b = i / fhw;
    i64 r = i - b * fhw;
    i64 ia = 2 * b * fhw + r;
    i64 ig = ia + fhw;
    float t = tanhf(pre[ia]);
    float s = sigmoidf(pre[ig]);
    float d = dout[i];
    dpre[ia] = d * s * (1.0f - t * t);
    dpre[ig] = d * t * s * (1.0f - s);
  }
}

// ------------------------------------------------------------------ layout

__global__ void mspx_space_depth_u8(const u8* in, u8* out, i64 total, int c, int h, int w, int b, int to_depth) {
  space_depth<u8>(in, out, total, c, h, w, b, to_depth);
}

__global__ void mspx_space_depth_u32(const u32* in, u32* out, i64 total, int c, int h, int w, int b, int to_depth) {
  space_depth<u32>(in, out, total, c, h, w, b, to_depth);
}

// ------------------------------------------------------------------ likelihood and sampling
//
// Logits are [N, C*L, H, W], channel-major: the L logits of sub-pixel (n, c, p) are at
// (n*C + c)*L*HW + l*HW + p. A thread per sub-pixel k = (n*C + c)*HW + p; neighbouring threads
// read neighbouring pixels, so every load is coalesced.

// nll[k] = logsumexp(z) - z[target]; the sum of exponentials in double.
__global__ void mspx_softmax_xent(const float* z, const u8* targets, float* nll, i64 subpixels, int levels, i64 hw, u64* err) {
  GRID_STRIDE(k, subpixels) {
    i64 bc = k / hw;
    const float* zk = z + bc * levels * hw + (k - bc * hw);
    int t = targets[k];
    if (t >= levels) {
      report(err, ERROR_TARGET_NOT_BELOW_LEVELS, k, t, levels);
      nll[k] = __int_as_float(0x7fc00000);
      continue;
    }
    float m = zk[0];
    for (int l = 1; l < levels; l++) {
      m = fmaxf(m, zk[l * hw]);
    }
    double s = 0;
    for (int l = 0; l < levels; l++) {
      s += exp((double)zk[l * hw] - (double)m);
    }
    nll[k] = (float)((double)m + log(s) - (double)zk[t * hw]);
  }
}

// The softmax gradient, after cudnnSoftmaxForward has written softmax(z) into dl:
// dl = dnll * (softmax - onehot(target)).
__global__ void mspx_softmax_xent_backward(float* dl, const u8* targets, const float* dnll, i64 subpixels, int levels, i64 hw, u64* err) {
  GRID_STRIDE(k, subpixels) {
    i64 bc = k / hw;
    float* dk = dl + bc * levels * hw + (k - bc * hw);
    int t = targets[k];
    float g = dnll[k];
    if (t >= levels) {
      report(err, ERROR_TARGET_NOT_BELOW_LEVELS, k, t, levels);
      g = __int_as_float(0x7fc00000);
    }
    for (int l = 0; l < levels; l++) {
      dk[l * hw] = g * (dk[l * hw] - (l == t ? 1.0f : 0.0f));
    }
  }
}

// out[k] = min { l : sum_{j<=l} p_j > u[k] } by inverse CDF, in double like the reference, so that
// backends agree given the same uniforms; the last level when rounding leaves the total below u.
__global__ void mspx_sample_categorical(const float* z, const float* u, u8* out, i64 subpixels, int levels, i64 hw) {
  GRID_STRIDE(k, subpixels) {
    i64 bc = k / hw;
    const float* zk = z + bc * levels * hw + (k - bc * hw);
    double m = zk[0];
    for (int l = 1; l < levels; l++) {
      m = fmax(m, (double)zk[l * hw]);
    }
    double s = 0;
    for (int l = 0; l < levels; l++) {
      s += exp((double)zk[l * hw] - m);
    }
    double lse = m + log(s);
    double uk = u[k];
    double cdf = 0;
    int pick = levels - 1;
    for (int l = 0; l < levels; l++) {
      cdf += exp((double)zk[l * hw] - lse);
      if (cdf > uk) {
        pick = l;
        break;
      }
    }
    out[k] = (u8)pick;
  }
}

// ------------------------------------------------------------------ dense

// out[r, k] = table[indices[r], k]; n = rows of out * d.
__global__ void mspx_embedding_lookup(const float* table, const int* indices, float* out, i64 n, int d, int rows, u64* err) {
  GRID_STRIDE(i, n) {
    i64 r = i / d;
    int v = indices[r];
    if (v < 0 || v >= rows) {
      report(err, ERROR_INDEX_OUT_OF_RANGE, r, v, rows);
      out[i] = __int_as_float(0x7fc00000);
    } else {
      out[i] = table[(i64)v * d + (i - r * d)];
    }
  }
}

// dtable[v, k] = sum of dout[i, k] over the i with indices[i] = v, gathered by one thread per
// (v, k) in index order: deterministic, no atomics, and V*N*D work, which is nothing for class
// embeddings (V = classes, N = batch).
__global__ void mspx_embedding_backward(const int* indices, const float* dout, float* dtable, int count, int d, int rows, u64* err) {
  i64 total = (i64)rows * d;
  GRID_STRIDE(e, total) {
    int v = (int)(e / d);
    int k = (int)(e - (i64)v * d);
    double s = 0;
    for (int i = 0; i < count; i++) {
      int idx = indices[i];
      if (idx == v) {
        s += dout[(i64)i * d + k];
      } else if (e == 0 && (idx < 0 || idx >= rows)) {
        report(err, ERROR_INDEX_OUT_OF_RANGE, i, idx, rows);
      }
    }
    dtable[e] = (float)s;
  }
}

// out[M, N] = op(a) * op(b), op transposing when its flag is set; a is [a_rows, a_cols] before the
// transpose, b likewise. TILE x TILE blocks, grid (ceil(N/TILE), ceil(M/TILE)); float accumulation
// (the model's matmuls have K of a few hundred at most).
__global__ void mspx_matmul(const float* a, const float* b, float* out, int m, int n, int k, int a_cols, int b_cols, int trans_a, int trans_b) {
  __shared__ float as[TILE][TILE + 1];
  __shared__ float bs[TILE][TILE + 1];
  int row = blockIdx.y * TILE + threadIdx.y;
  int col = blockIdx.x * TILE + threadIdx.x;
  float acc = 0.0f;
  for (int t0 = 0; t0 < k; t0 += TILE) {
    int pa = t0 + threadIdx.x;  // a's inner index loaded by this thread
    int pb = t0 + threadIdx.y;  // b's inner index loaded by this thread
    as[threadIdx.y][threadIdx.x] =
        (row < m && pa < k) ? (trans_a ? a[(i64)pa * a_cols + row] : a[(i64)row * a_cols + pa]) : 0.0f;
    bs[threadIdx.y][threadIdx.x] =
        (pb < k && col < n) ? (trans_b ? b[(i64)col * b_cols + pb] : b[(i64)pb * b_cols + col]) : 0.0f;
    __syncthreads();
    for (int p = 0; p < TILE; p++) {
      acc = fmaf(as[threadIdx.y][p], bs[p][threadIdx.x], acc);
    }
    __syncthreads();
  }
  if (row < m && col < n) {
    out[(i64)row * n + col] = acc;
  }
}

// ------------------------------------------------------------------ reductions

// out[r] = sum over hw of dy[r*hw ...]: one block of REDUCE_THREADS per row r = (n, c).
__global__ void mspx_sum_spatial(const float* dy, float* out, i64 hw) {
  __shared__ double s[REDUCE_THREADS];
  const float* row = dy + (i64)blockIdx.x * hw;
  double acc = 0;
  for (i64 p = threadIdx.x; p < hw; p += REDUCE_THREADS) {
    acc += row[p];
  }
  s[threadIdx.x] = acc;
  block_sum(s);
  if (threadIdx.x == 0) {
    out[blockIdx.x] = (float)s[0];
  }
}

// First pass of sum / sum of squares: block b writes the double sum of its grid-stride share of x
// to partial[b]. The host fixes the grid by n, so the order of every addition is fixed by n.
__global__ void mspx_reduce_partial(const float* x, double* partial, i64 n, int squares) {
  __shared__ double s[REDUCE_THREADS];
  double acc = 0;
  GRID_STRIDE(i, n) {
    double v = x[i];
    acc += squares ? v * v : v;
  }
  s[threadIdx.x] = acc;
  block_sum(s);
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = s[0];
  }
}

// Second pass: one block sums the count partials and writes out[0].
__global__ void mspx_reduce_final(const double* partial, float* out, int count) {
  __shared__ double s[REDUCE_THREADS];
  double acc = 0;
  for (int i = threadIdx.x; i < count; i += REDUCE_THREADS) {
    acc += partial[i];
  }
  s[threadIdx.x] = acc;
  block_sum(s);
  if (threadIdx.x == 0) {
    out[0] = (float)s[0];
  }
}

// ------------------------------------------------------------------ optimiser

// One Adam step in place, in double as the reference; c1 = 1 - b1^t and c2 = 1 - b2^t come from
// the host.
__global__ void mspx_adam(float* param, const float* grad, float* m, float* v, i64 n, double lr, double b1, double b2, double eps, double c1, double c2) {
  GRID_STRIDE(i, n) {
    double g = grad[i];
    double mi = b1 * (double)m[i] + (1.0 - b1) * g;
    double vi = b2 * (double)v[i] + (1.0 - b2) * g * g;
    m[i] = (float)mi;
    v[i] = (float)vi;
    param[i] = (float)((double)param[i] - lr * (mi / c1) / (sqrt(vi / c2) + eps));
  }
}

}  // extern "C"
