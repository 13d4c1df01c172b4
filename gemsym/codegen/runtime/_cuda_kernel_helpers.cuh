// CUDA loops of the ahead-of-time kernels (copied verbatim from
// gemsym/codegen/runtime/_cuda_kernel_helpers.cuh into _cuda_kernels.cu, after the element
// helpers of _cpu_kernel_helpers.h; the family kernels follow).
//
// The same scalar bodies as the CPU kernels, compiled by nvcc: every float32 or 16-bit
// element is computed in double (EXACT = false) and rounded once into its dtype, so a
// result is the CPU kernel's up to the device's libm (exp and expm1 are the branch-free
// ones of _cpu_kernel_math.h on both).  Built with -fmad=false: the exact-product steps
// must not become fused multiply-adds.  float64 inputs stay on the PyTorch formulas.
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>

namespace {

constexpr int _THREADS = 256;
// elements per thread of the elementwise kernels: loaded together, then computed (the
// loads of one thread are in flight at once), strided by the block so that a warp's
// accesses stay contiguous
#ifndef TORCH_BRIDGE_CUDA_ITEMS
#define TORCH_BRIDGE_CUDA_ITEMS 4
#endif
constexpr int _ITEMS = TORCH_BRIDGE_CUDA_ITEMS;
// elements per block of a parameter-gradient sum; fixed, so that the sums (a fixed tree per
// block, then the blocks' partial sums in a fixed tree) do not depend on the device
constexpr int64_t _CHUNK = 4096;

inline void _check(const at::Tensor& x) {
  TORCH_CHECK(x.is_cuda() && x.is_contiguous() && x.scalar_type() != at::kDouble,
              "contiguous CUDA tensor of float32, float16 or bfloat16 expected");
}

template <typename T, typename F>
__global__ void __launch_bounds__(_THREADS)
    _fwd_kernel(const T* __restrict__ xp, T* __restrict__ yp, int64_t n, F f) {
  const int64_t base = static_cast<int64_t>(blockIdx.x) * (_THREADS * _ITEMS) + threadIdx.x;
  double v[_ITEMS];
#pragma unroll
  for (int k = 0; k < _ITEMS; ++k) {
    const int64_t i = base + k * _THREADS;
    v[k] = i < n ? _load(xp[i]) : 0.0;
  }
#pragma unroll
  for (int k = 0; k < _ITEMS; ++k) {
    const int64_t i = base + k * _THREADS;
    if (i < n) yp[i] = _store<T>(f(v[k], std::false_type{}));
  }
}

template <typename T, typename DX>
__global__ void __launch_bounds__(_THREADS)
    _bwd_kernel(const T* __restrict__ gp, const T* __restrict__ xp, T* __restrict__ op,
                int64_t n, DX dx) {
  const int64_t base = static_cast<int64_t>(blockIdx.x) * (_THREADS * _ITEMS) + threadIdx.x;
  double g[_ITEMS], v[_ITEMS];
#pragma unroll
  for (int k = 0; k < _ITEMS; ++k) {
    const int64_t i = base + k * _THREADS;
    g[k] = i < n ? _load(gp[i]) : 0.0;
    v[k] = i < n ? _load(xp[i]) : 0.0;
  }
#pragma unroll
  for (int k = 0; k < _ITEMS; ++k) {
    const int64_t i = base + k * _THREADS;
    if (i < n) op[i] = _store<T>(g[k] * dx(v[k], std::false_type{}));
  }
}

// s[0] = the sum of s[0 .. _THREADS) in a fixed tree (every thread of the block calls it)
__device__ inline void _block_sum(double* s) {
  __syncthreads();
  for (int w = _THREADS / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
}

// g f'(x) and, per block of _CHUNK elements, the K sums of g df/dtheta_k into part
template <int K, typename T, typename FIRST>
__global__ void __launch_bounds__(_THREADS)
    _bwd_sums_kernel(const T* __restrict__ gp, const T* __restrict__ xp, T* __restrict__ op,
                     double* __restrict__ part, int64_t n, FIRST first) {
  __shared__ double s[K][_THREADS];
  double acc[K];
#pragma unroll
  for (int k = 0; k < K; ++k) acc[k] = 0.0;
  const int64_t base = static_cast<int64_t>(blockIdx.x) * _CHUNK + threadIdx.x;
  for (int64_t j = 0; j < _CHUNK; j += _THREADS) {
    const int64_t i = base + j;
    if (i < n) {
      double d[K + 1];
      const double g = _load(gp[i]);
      first(_load(xp[i]), std::false_type{}, d);
      op[i] = _store<T>(g * d[0]);
#pragma unroll
      for (int k = 0; k < K; ++k) acc[k] += g * d[k + 1];
    }
  }
  for (int k = 0; k < K; ++k) {
    s[k][threadIdx.x] = acc[k];
    _block_sum(s[k]);
    if (threadIdx.x == 0) part[static_cast<int64_t>(blockIdx.x) * K + k] = s[k][0];
  }
}

// out[k] = the sum of the blocks' partial sums part[b K + k], one block per parameter:
// each thread adds a fixed strided subset in order, then a fixed tree
template <int K>
__global__ void __launch_bounds__(_THREADS)
    _sum_parts(const double* __restrict__ part, int64_t blocks, double* __restrict__ out) {
  __shared__ double s[_THREADS];
  const int k = blockIdx.x;
  double acc = 0.0;
  for (int64_t b = threadIdx.x; b < blocks; b += _THREADS) acc += part[b * K + k];
  s[threadIdx.x] = acc;
  _block_sum(s);
  if (threadIdx.x == 0) out[k] = s[0];
}

inline int64_t _blocks(int64_t n, int64_t per_block) { return (n + per_block - 1) / per_block; }

// y = f(x) elementwise; f(v, std::false_type) on the device
template <typename F>
at::Tensor _forward(const at::Tensor& x, F f) {
  _check(x);
  const c10::cuda::CUDAGuard guard(x.device());
  at::Tensor y = at::empty_like(x);
  const int64_t n = x.numel();
  if (n == 0) return y;
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "fwd", [&] {
    _fwd_kernel<<<_blocks(n, _THREADS * _ITEMS), _THREADS, 0, stream>>>(
        x.const_data_ptr<scalar_t>(), y.mutable_data_ptr<scalar_t>(), n, f);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return y;
}

// (grad_x = g f'(x), float64 sums of g df/dtheta_k), as the CPU kernels' _backward
template <int K, typename DX, typename FIRST>
std::tuple<at::Tensor, at::Tensor> _backward(const at::Tensor& grad, const at::Tensor& x,
                                             bool params_grad, DX dx, FIRST first) {
  _check(x);
  _check(grad);
  TORCH_CHECK(grad.scalar_type() == x.scalar_type() && grad.sizes() == x.sizes(),
              "grad must match x");
  const c10::cuda::CUDAGuard guard(x.device());
  at::Tensor gx = at::empty_like(x);
  at::Tensor out = at::zeros({K}, x.options().dtype(at::kDouble));
  const int64_t n = x.numel();
  if (n == 0) return {gx, out};
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "bwd", [&] {
    const scalar_t* xp = x.const_data_ptr<scalar_t>();
    const scalar_t* gp = grad.const_data_ptr<scalar_t>();
    scalar_t* op = gx.mutable_data_ptr<scalar_t>();
    if constexpr (K > 0) {
      if (params_grad) {
        const int64_t blocks = _blocks(n, _CHUNK);
        at::Tensor part = at::empty({blocks * K}, x.options().dtype(at::kDouble));
        _bwd_sums_kernel<K><<<blocks, _THREADS, 0, stream>>>(
            gp, xp, op, part.mutable_data_ptr<double>(), n, first);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        _sum_parts<K><<<K, _THREADS, 0, stream>>>(part.const_data_ptr<double>(), blocks,
                                                  out.mutable_data_ptr<double>());
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        return;
      }
    }
    _bwd_kernel<<<_blocks(n, _THREADS * _ITEMS), _THREADS, 0, stream>>>(gp, xp, op, n, dx);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {gx, out};
}

}  // namespace
