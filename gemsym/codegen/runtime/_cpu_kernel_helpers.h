// Helpers of the ahead-of-time CPU kernels (copied verbatim from
// gemsym/codegen/runtime/_cpu_kernel_helpers.h; the family kernels follow).
//
// Every element is computed in double: float32 and 16-bit inputs with EXACT = false (as the
// PyTorch path computes float32 in float64), float64 inputs with EXACT = true (integer
// powers by std::pow, compensated sigmoid arguments: the PyTorch path's `exact` steps).
// Results are rounded once into the output dtype (16-bit through a round-to-odd float, so
// that double -> float -> half is one correct rounding).  Built with -ffp-contract=off:
// the exact-product steps must not become fused multiply-adds.
#include <ATen/core/Tensor.h>
#include <ATen/Dispatch.h>
#ifndef __CUDACC__
#include <ATen/Parallel.h>
#endif
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace {

constexpr double _INF = std::numeric_limits<double>::infinity();
constexpr double _NAN = std::numeric_limits<double>::quiet_NaN();
// elements per task of at::parallel_for, and per partial sum of a parameter gradient
// (fixed, so that the sums do not depend on the number of threads)
constexpr int64_t GRAIN = 1 << 14;

// the scalar formulas are inlined into the element loops (which then vectorise); the
// element lambdas are device lambdas in the CUDA build ([=] _LAMBDA_SPACE (...) _LAMBDA_INLINE)
#ifdef __CUDACC__
#define _INLINE __host__ __device__ __forceinline__
#define _LAMBDA_SPACE __device__
#define _LAMBDA_INLINE
#else
#define _INLINE inline __attribute__((always_inline))
#define _LAMBDA_SPACE
#define _LAMBDA_INLINE __attribute__((always_inline))
#endif

// torch.where: both sides are expressions of one element, only the selected one is needed
#define _where(c, a, b) ((c) ? static_cast<double>(a) : static_cast<double>(b))

_HD inline bool _isinf(double v) { return std::isinf(v); }
_HD inline bool _isnan(double v) { return std::isnan(v); }
_HD inline double _like(double, double v) { return v; }
_HD inline double _sq(double v) { return v * v; }
_HD inline double _inf_times(double c) { return c > 0 ? _INF : -_INF; }
_HD inline double _sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : v); }
_HD inline double _max(double a, double b) { return (a != a || b != b) ? _NAN : (a > b ? a : b); }
_HD inline double _min(double a, double b) { return (a != a || b != b) ? _NAN : (a < b ? a : b); }

// sigma(s) of an argument the printer does not pair (not linear in x: Mish's 2 softplus):
// EXACT, from libm's exp; where the result is rounded to float32 or a 16-bit format, from
// the branch-free exp (libm's is a call, which kept such element loops scalar)
template <bool EXACT>
_INLINE double _sigmoid(double s) {
  if (!EXACT) {
    const double e = _vexp(-std::fabs(s));
    const double q = 1.0 / (1.0 + e);
    return s >= 0 ? q : e * q;
  }
  if (s >= 0) return 1.0 / (1.0 + std::exp(-s));
  const double e = std::exp(s);
  return e / (1.0 + e);
}

// x**e for an integer e >= 0 (runtime _ipow): EXACT, one rounding (std::pow); otherwise
// binary powering in double (~e 2^-53 relative error, far below a float32 result's), the
// products in the order of the runtime's loop, straight-line for small e: with a constant
// exponent no loop is left and the element loop vectorises (GEM N=1 forward, random
// inputs: 4.9 -> 2.4 ns per element)
// always inlined: GCC's unit-growth limits otherwise left it a call in the larger formulas,
// and a call in the element loop keeps it scalar (GEM N=1 forward 12.5 ns per element)
_HD __attribute__((always_inline)) inline double _ipow(double x, double ed, bool exact) {
  long e = static_cast<long>(ed);
  if (exact && e > 2) return std::pow(x, static_cast<double>(e));
  const double x2 = x * x;
  switch (e) {
    case 0: return 1.0;
    case 1: return x;
    case 2: return x2;
    case 3: return x * x2;
    case 4: return x2 * x2;
    case 5: return x * (x2 * x2);
    case 6: return x2 * (x2 * x2);
    case 7: return (x * x2) * (x2 * x2);
    case 8: { const double x4 = x2 * x2; return x4 * x4; }
    default: break;
  }
  double result = 1.0, base = x;
  bool first = true;
  // e's bits, lowest first, over a trip count fixed by e's size (5 bits below 32): GCC
  // unrolls it completely for a constant e, leaving straight-line code (it cannot count
  // the iterations of a loop on e >>= 1, which kept the element loop scalar: GEM N=5's
  // narrow forward 9.0 ns per element, N=4's 1.6)
  const int bits = e < 32 ? 5 : 63;
  for (int i = 0; i < bits; ++i) {
    if ((e >> i) & 1) {
      result = first ? base : result * base;
      first = false;
    }
    if (e >> (i + 1)) base = base * base;
  }
  return result;
}

// x clamped into [lo, hi] (the narrow bodies' clamp, gemsym.codegen.narrow.Clamp): NaN
// fails both comparisons and stays NaN, -0 stays -0 (torch.clamp's values)
_HD inline double _clamp(double v, double lo, double hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// c * x**k as ((c*x)*x)... where |c| < 2^1000, else other (runtime _xtimes): the powers
// of x last, so that no partial product underflows where the result does not
_HD __attribute__((always_inline)) inline double _xtimes(double c, double x, double kd,
                                                          double other) {
  const long k = static_cast<long>(kd);
  double v = c;
  for (long i = 0; i < k; ++i) v = v * x;
  return std::fabs(c) < 0x1p1000 ? v : other;
}

struct _SigmoidPair {
  double pos, neg;
};

struct _SigmoidTrio {
  double pos, neg, prod;
};

// (sigma(s), sigma(-s)) for s = c x + d (runtime _sigmoid_pair) from one s and one
// exponential: where not EXACT, E = exp(-s) and sigma(s) = 1/(1 + E), sigma(-s) = E times
// it (2 exponentials and 2 divisions per pair were most of Sqish's cost); EXACT, _sigmoid<true>(s) and (-s) bitwise (both take exp(-|s|)), with the
// rounding errors of c*x (Dekker) and of the sum (Knuth) applied to first order.
_INLINE _SigmoidPair _sigmoid_pair(double c, double x, double d, bool exact) {
  const double p = c * x;
  const double s = p + d;
  if (!exact) {
    // the runtime's float64 pair: E = e^(-s) with -s clamped to 709 (NaN stays NaN),
    // sigma(s) = 1/(1 + E), sigma(-s) = E sigma(s)
    const double e = _vexp(s < -709.0 ? 709.0 : -s);
    const double q = 1.0 / (1.0 + e);
    return {q, e * q};
  }
  const bool pos = s >= 0;
  const double e = std::exp(-std::fabs(s));
  const double big = 1.0 / (1.0 + e);
  const double small = e / (1.0 + e);
  const double sig = pos ? big : small;
  const double sig_neg = pos ? small : big;
  const double split = 134217729.0;
  const double cs = c * split;
  const double ch = cs - (cs - c);
  const double cl = c - ch;
  const double xs = x * split;
  const double xh = xs - (xs - x);
  const double xl = x - xh;
  double err = ((ch * xh - p) + ch * xl + cl * xh) + cl * xl;
  const double bp = s - p;
  err = err + ((p - (s - bp)) + (d - bp));
  if (!(std::fabs(err) < _INF)) err = 0.0;
  const double corr = sig * sig_neg * err;
  return {sig + corr, sig_neg - corr};
}

// p sigma(s) + n sigma(-s) for s = -(nc x + nd) (runtime _sigmoid_ratio): (p + n E)/(1 + E),
// E = e^(-s) with -s clamped at 600 (NaN stays NaN); the narrow bodies only (not EXACT)
// (the ops never take float64 inputs; an EXACT call gets the compensated pair's sum)
_INLINE double _sigmoid_ratio(double p, double n, double nc, double x, double nd,
                              bool exact) {
  if (exact) {
    const _SigmoidPair v = _sigmoid_pair(-nc, x, -nd, true);
    return p * v.pos + n * v.neg;
  }
  const double t = nc * x + nd;
  const double e = _vexp(t > 600.0 ? 600.0 : t);
  return (n * e + p) / (1.0 + e);
}

// sigma(s) (neg: sigma(-s)) for s = c x + d (runtime _sigmoid_lin): one side of the pair
_INLINE double _sigmoid_lin(double c, double x, double d, bool exact, bool neg) {
  const _SigmoidPair v = _sigmoid_pair(c, x, d, exact);
  return neg ? v.neg : v.pos;
}

// (sigma(s), sigma(-s), sigma(s) sigma(-s)) (runtime _sigmoid_trio): the pair and its
// product, rounded once (where not EXACT, the product the PyTorch path forms)
_INLINE _SigmoidTrio _sigmoid_trio(double c, double x, double d, bool exact) {
  const _SigmoidPair v = _sigmoid_pair(c, x, d, exact);
  return {v.pos, v.neg, v.pos * v.neg};
}

// double -> float rounded to odd: a later rounding to a 16-bit format is then the correct
// rounding of the double (24 >= 11 + 2 bits)
_HD inline float _to_float_odd(double v) {
  // branch-free (the element loops vectorise): an inexact result with an even last bit
  // moves one unit toward v (overflow: inf -> FLT_MAX, still beyond every 16-bit format)
  float f = static_cast<float>(v);
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const bool inexact = static_cast<double>(f) != v && v == v;
  const uint32_t step = std::fabs(static_cast<double>(f)) > std::fabs(v) ? 0xFFFFFFFFu : 1u;
  bits += (inexact && (bits & 1u) == 0) ? step : 0u;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// 16-bit values through their bits, in integer and float operations that GCC vectorises
// (c10's conversions, and GCC 12's of _Float16, are calls or scalar F16C instructions that
// keep the element loops scalar: float16 Sqish ran at ~300 ns per element)
_HD inline double _half_to_double(uint16_t h) {
  const uint64_t em = h & 0x7FFFu;
  // normal: the exponent rebiased (15 -> 1023) and the significand moved up 42 bits; inf
  // and NaN (exponent 31) to exponent 2047; subnormal: em 2^-24 exactly
  const uint64_t rebias = em >= 0x7C00u ? uint64_t{2047 - 31} : uint64_t{1023 - 15};
  double normal;
  const uint64_t nbits = (em << 42) + (rebias << 52);
  std::memcpy(&normal, &nbits, sizeof normal);
  const double v = em < 0x400u ? static_cast<double>(static_cast<int32_t>(em)) * 0x1p-24 : normal;
  return (h & 0x8000u) ? -v : v;
}

// float -> float16 bits, rounded to nearest even (the branch-free method of Maratyszcza's
// FP16 library, which c10 also uses when it has no F16C): the float arithmetic rounds the
// significand at float16's precision, overflow gives inf, NaN 0x7E00 with its sign
_HD inline uint16_t _float_to_half(float f) {
  float base = (std::fabs(f) * 0x1p+112f) * 0x1p-110f;
  uint32_t w;
  std::memcpy(&w, &f, sizeof w);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  bias = bias < 0x71000000u ? 0x71000000u : bias;
  const uint32_t bbits = (bias >> 1) + 0x07800000u;
  float bf;
  std::memcpy(&bf, &bbits, sizeof bf);
  base = bf + base;
  uint32_t bits;
  std::memcpy(&bits, &base, sizeof bits);
  const uint32_t nonsign = ((bits >> 13) & 0x00007C00u) + (bits & 0x00000FFFu);
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

template <typename T>
_HD inline double _load(T v) {
  if constexpr (std::is_same_v<T, c10::BFloat16> || std::is_same_v<T, c10::Half>) {
    uint16_t b;
    std::memcpy(&b, &v, sizeof b);
    if constexpr (std::is_same_v<T, c10::Half>) {
      return _half_to_double(b);
    } else {  // bfloat16: the top half of a float
      const uint32_t u = static_cast<uint32_t>(b) << 16;
      float f;
      std::memcpy(&f, &u, sizeof f);
      return static_cast<double>(f);
    }
  } else {
    return static_cast<double>(v);
  }
}

template <typename T>
_HD inline T _store(double v) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    return static_cast<T>(v);
  } else {
    const float f = _to_float_odd(v);
    uint16_t b;
    if constexpr (std::is_same_v<T, c10::Half>) {
      b = _float_to_half(f);
    } else {  // bfloat16: round to nearest even, NaN as c10's 0x7FC0
      uint32_t u;
      std::memcpy(&u, &f, sizeof u);
      b = f != f ? uint16_t{0x7FC0}
                 : static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    }
    T out;
    std::memcpy(&out, &b, sizeof out);
    return out;
  }
}

#ifndef __CUDACC__  // the CPU loops; the CUDA build has its own (_cuda_kernel_helpers.cuh)
inline void _check(const at::Tensor& x) {
  TORCH_CHECK(x.device().is_cpu() && x.is_contiguous(), "contiguous CPU tensor expected");
}

// the element loop of a forward pass, on restrict pointers and a local copy of f (captured
// by reference in at::parallel_for's closure, GCC left the forward loop scalar); omp simd
// (elements are independent, nothing is reassociated): without it GCC's if-conversion
// gave up on the larger formulas (Sqish with run-time parameters stayed scalar)
template <typename T, bool EXACT, typename F>
void _fwd_loop(const T* __restrict xp, T* __restrict yp, int64_t b, int64_t e, const F f) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    yp[i] = _store<T>(f(_load(xp[i]), std::integral_constant<bool, EXACT>{}));
  }
}

template <typename T, bool EXACT, typename DX>
void _bwd_loop(const T* __restrict gp, const T* __restrict xp, T* __restrict op, int64_t b,
               int64_t e, const DX dx) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    op[i] = _store<T>(_load(gp[i]) * dx(_load(xp[i]), std::integral_constant<bool, EXACT>{}));
  }
}

// the element loop of a backward that sums parameter derivatives, m <= CH elements:
// g f'(x) into op, g df/dtheta_k into t[k CH + j].  GCC's own vectoriser (ivdep: the
// elements are independent), not omp simd, whose per-lane copies of d are scatter stores
// that kept this loop scalar; d then stays in registers
template <typename T, bool EXACT, int K, int64_t CH, typename FIRST>
void _terms_loop(const T* __restrict gp, const T* __restrict xp, T* __restrict op, int64_t m,
                 const FIRST first, double* __restrict t) {
#pragma GCC ivdep
  for (int64_t j = 0; j < m; ++j) {
    const double g = _load(gp[j]);
    double d[K + 1];
    first(_load(xp[j]), std::integral_constant<bool, EXACT>{}, d);
    op[j] = _store<T>(g * d[0]);
#pragma GCC unroll 16
    for (int k = 0; k < K; ++k) t[k * CH + j] = g * d[k + 1];
  }
}

// one block [b, e) of a backward with parameter sums (K >= 1): g f'(x) into op, and into
// part[0..K) the sums of g df/dtheta_k, the term of element i added to partial sum
// (i - b) mod 8 and the 8 summed pairwise at the end: a fixed order (the same sums
// whatever the threads) whose additions vectorise (one running sum per k was a chain of
// dependent additions that kept the loop scalar: learnable Sqish d/dx and parameter sums
// 39 -> 12 ns per element, float32, AVX2)
template <typename T, bool EXACT, int K, typename FIRST>
void _sums_block(const T* __restrict gp, const T* __restrict xp, T* __restrict op, int64_t b,
                 int64_t e, const FIRST first, double* __restrict part) {
  constexpr int L = 8;
  constexpr int64_t CH = 512;  // a multiple of L: chunks keep each element's partial sum
  double acc[K][L] = {};
  double t[K * CH];
  for (int64_t c = b; c < e; c += CH) {
    const int64_t m = std::min(CH, e - c);
    _terms_loop<T, EXACT, K, CH>(gp + c, xp + c, op + c, m, first, t);
    for (int k = 0; k < K; ++k) {
      int64_t j = 0;
      for (; j + L <= m; j += L) {
        for (int l = 0; l < L; ++l) acc[k][l] += t[k * CH + j + l];
      }
      for (int l = 0; j < m; ++j, ++l) acc[k][l] += t[k * CH + j];
    }
  }
  for (int k = 0; k < K; ++k) {
    const double* a = acc[k];
    part[k] = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  }
}

// y = f(x) elementwise; f(v, std::integral_constant<bool, EXACT>)
template <typename F>
at::Tensor _forward(const at::Tensor& x, F f) {
  _check(x);
  at::Tensor y = at::empty_like(x);
  const int64_t n = x.numel();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "fwd", [&] {
    const scalar_t* xp = x.const_data_ptr<scalar_t>();
    scalar_t* yp = y.mutable_data_ptr<scalar_t>();
    constexpr bool exact = std::is_same_v<scalar_t, double>;
    at::parallel_for(0, n, GRAIN, [&](int64_t b, int64_t e) {
      _fwd_loop<scalar_t, exact>(xp, yp, b, e, f);
    });
  });
  return y;
}

// (grad_x = g f'(x), float64 sums of g df/dtheta_k): dx(v, tag) gives f'(v); first(v, tag,
// out) writes f'(v) and the K parameter derivatives.  Sums are taken per GRAIN block, then
// the blocks in order (the same result for any number of threads).
template <int K, typename DX, typename FIRST>
std::tuple<at::Tensor, at::Tensor> _backward(const at::Tensor& grad, const at::Tensor& x,
                                             bool params_grad, DX dx, FIRST first) {
  _check(x);
  _check(grad);
  TORCH_CHECK(grad.scalar_type() == x.scalar_type() && grad.sizes() == x.sizes(),
              "grad must match x");
  at::Tensor gx = at::empty_like(x);
  const int64_t n = x.numel();
  const bool sums = params_grad && K > 0;
  const int64_t blocks = (n + GRAIN - 1) / GRAIN;
  std::vector<double> part(sums ? static_cast<size_t>(blocks) * (K > 0 ? K : 1) : 0, 0.0);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "bwd", [&] {
    const scalar_t* xp = x.const_data_ptr<scalar_t>();
    const scalar_t* gp = grad.const_data_ptr<scalar_t>();
    scalar_t* op = gx.mutable_data_ptr<scalar_t>();
    constexpr bool exact = std::is_same_v<scalar_t, double>;
    at::parallel_for(0, blocks, 1, [&](int64_t bb, int64_t be) {
      for (int64_t blk = bb; blk < be; ++blk) {
        const int64_t b = blk * GRAIN, e = std::min(n, b + GRAIN);
        if (sums) {
          if constexpr (K > 0) {
            _sums_block<scalar_t, exact, K>(gp, xp, op, b, e, first,
                                            part.data() + static_cast<size_t>(blk) * K);
          }
        } else {
          _bwd_loop<scalar_t, exact>(gp, xp, op, b, e, dx);
        }
      }
    });
  });
  at::Tensor out = at::zeros({K}, x.options().dtype(at::kDouble));
  if (sums) {
    double* s = out.mutable_data_ptr<double>();
    for (int64_t blk = 0; blk < blocks; ++blk) {
      for (int k = 0; k < K; ++k) s[k] += part[static_cast<size_t>(blk) * K + k];
    }
  }
  return {gx, out};
}
#endif  // __CUDACC__

}  // namespace

// The ops as one CPython extension module in the same library (build.py defines
// _CPU_PYTHON_BINDING where Python's headers are there): a plain eager call then costs one
// C++ call, not the dispatcher's layers (~6 us of a 2^10-element call).  Per family,
// <name>(x, ints, reals) returns f(x), False where the call needs x's autograd graph (the
// caller then builds it: _cpu_kernel._Graph), and None for every call it cannot take exactly
// as the registered op would (the caller then takes the op, which raises what it raises);
// <name>_grad(grad, x, ints, reals) returns g f'(x) by the backward op, or None.  x must be
// a plain dense contiguous CPU tensor of float32, bfloat16 or float16 (no subclass, no
// negative view or other dispatch key), the parameters Python ints and numbers inside their
// domains, and nothing may need to see the op (_direct_plain).  torch.compile and
// forward-mode AD are the Python caller's checks (a compiled frame must not call these).
#if defined(_CPU_PYTHON_BINDING) && !defined(__CUDACC__)
#include <Python.h>
#include <ATen/PythonTorchFunctionTLS.h>
#include <c10/core/GradMode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <c10/core/impl/TorchDispatchModeTLS.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/profiler/orchestration/observer.h>

namespace {

// _cpu_kernel._plain's checks that C++ can make: no torch.func transform
// (torch._C._are_functorch_transforms_active), JIT trace (its Tracer key), torch dispatch
// mode (or a Python key in force), torch function mode, nor profiler
inline bool _direct_plain() {
  static const c10::DispatchKeySet active({c10::DispatchKey::FuncTorchDynamicLayerFrontMode,
                                           c10::DispatchKey::FuncTorchDynamicLayerBackMode,
                                           c10::DispatchKey::Tracer, c10::DispatchKey::Python,
                                           c10::DispatchKey::PythonTLSSnapshot});
  return !c10::impl::tls_local_dispatch_key_set().included_.has_any(active) &&
         c10::impl::TorchDispatchModeTLS::stack_len() == 0 &&
         at::impl::PythonTorchFunctionTLS::stack_len() == 0 &&
         !torch::profiler::impl::profilerEnabled();
}

// the dispatch keys of a plain CPU tensor (an inference tensor has a subset of them)
inline c10::DispatchKeySet _plain_cpu_keys() {
  return c10::DispatchKeySet(c10::DispatchKey::CPU) |
         c10::getAutogradRelatedKeySetFromBackend(c10::BackendComponent::CPUBit) |
         c10::getAutocastRelatedKeySetFromBackend(c10::BackendComponent::CPUBit);
}

// obj as a plain dense CPU tensor of a kernel's 16/32-bit dtype, else nullptr
inline const at::Tensor* _direct_tensor(PyObject* obj) {
  // exactly torch.Tensor: a subclass (nn.Parameter included) goes through the op
  if (Py_TYPE(obj) != reinterpret_cast<PyTypeObject*>(THPVariableClass)) return nullptr;
  const at::Tensor& x = THPVariable_Unpack(obj);
  static const c10::DispatchKeySet plain = _plain_cpu_keys();
  const at::ScalarType st = x.scalar_type();
  if ((st != at::kFloat && st != at::kBFloat16 && st != at::kHalf) ||
      x.layout() != at::kStrided || !plain.isSupersetOf(x.key_set())) {
    return nullptr;
  }
  return &x;
}

// a positive Python int (not bool) that fits int64_t, as check_int accepts it
inline bool _direct_int(PyObject* obj, int64_t* out) {
  if (!PyLong_CheckExact(obj)) return false;
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
  if (overflow != 0 || v < 1) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

// float(v) of a Python float or int (not bool); false for other types and for an int
// beyond double's range (the checked path's ValueError)
inline bool _direct_real(PyObject* obj, double* out) {
  if (PyFloat_CheckExact(obj)) {
    *out = PyFloat_AS_DOUBLE(obj);
    return true;
  }
  if (!PyLong_CheckExact(obj)) return false;
  const double v = PyLong_AsDouble(obj);
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    return false;
  }
  *out = v;
  return true;
}

// Domain.contains of _params.py: finite, inside [lo, hi], an open bound excluded
inline bool _direct_in(double v, double lo, double hi, bool lo_open, bool hi_open) {
  if (!std::isfinite(v) || v < lo || v > hi) return false;
  return !((lo_open && v == lo) || (hi_open && v == hi));
}

// whether args[first], args[first + 1] are tuples of ni and nr items (ints, reals)
inline bool _direct_tuples(PyObject* const* args, Py_ssize_t first, Py_ssize_t ni,
                           Py_ssize_t nr) {
  return PyTuple_CheckExact(args[first]) && PyTuple_GET_SIZE(args[first]) == ni &&
         PyTuple_CheckExact(args[first + 1]) && PyTuple_GET_SIZE(args[first + 1]) == nr;
}

// x of a forward call (x, ints, reals), else nullptr; *graph: whether it needs x's graph
inline const at::Tensor* _direct_forward_args(PyObject* const* args, Py_ssize_t nargs,
                                              Py_ssize_t ni, Py_ssize_t nr, bool* graph) {
  if (nargs != 3 || !_direct_tuples(args, 1, ni, nr) || !_direct_plain()) return nullptr;
  const at::Tensor* x = _direct_tensor(args[0]);
  if (x == nullptr || !x->is_contiguous()) return nullptr;
  *graph = x->requires_grad() && c10::GradMode::is_enabled();
  return x;
}

// (grad, x) of a backward call (grad, x, ints, reals) outside create_graph: grad of x's
// dtype and shape (any strides, as _cpu_kernel.backward takes it), else false
inline bool _direct_backward_args(PyObject* const* args, Py_ssize_t nargs, Py_ssize_t ni,
                                  Py_ssize_t nr, const at::Tensor** grad,
                                  const at::Tensor** x) {
  if (nargs != 4 || !_direct_tuples(args, 2, ni, nr) || c10::GradMode::is_enabled() ||
      !_direct_plain()) {
    return false;
  }
  *grad = _direct_tensor(args[0]);
  *x = _direct_tensor(args[1]);
  return *grad != nullptr && *x != nullptr && (*x)->is_contiguous() &&
         (*grad)->scalar_type() == (*x)->scalar_type() && (*grad)->sizes() == (*x)->sizes();
}

// f() without the GIL (as the op's Python binding runs), wrapped as a Python tensor; None
// when it throws: the op then raises its own error for the same call
template <typename F>
PyObject* _direct_result(F f) {
  at::Tensor y;
  PyThreadState* state = PyEval_SaveThread();
  try {
    y = f();
  } catch (...) {
    PyEval_RestoreThread(state);
    Py_RETURN_NONE;
  }
  PyEval_RestoreThread(state);
  return THPVariable_Wrap(std::move(y));
}

}  // namespace
#endif  // _CPU_PYTHON_BINDING
