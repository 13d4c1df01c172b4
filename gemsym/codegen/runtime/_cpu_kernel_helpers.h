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
#include <ATen/Parallel.h>
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

// the scalar formulas are inlined into the element loops (which then vectorise)
#define _INLINE inline __attribute__((always_inline))

// torch.where: both sides are expressions of one element, only the selected one is needed
#define _where(c, a, b) ((c) ? static_cast<double>(a) : static_cast<double>(b))

inline bool _isinf(double v) { return std::isinf(v); }
inline bool _isnan(double v) { return std::isnan(v); }
inline double _like(double, double v) { return v; }
inline double _sq(double v) { return v * v; }
inline double _inf_times(double c) { return c > 0 ? _INF : -_INF; }
inline double _sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : v); }
inline double _max(double a, double b) { return (a != a || b != b) ? _NAN : (a > b ? a : b); }
inline double _min(double a, double b) { return (a != a || b != b) ? _NAN : (a < b ? a : b); }

inline double _sigmoid(double s) {
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
__attribute__((always_inline)) inline double _ipow(double x, double ed, bool exact) {
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
  while (e) {
    if (e & 1) {
      result = first ? base : result * base;
      first = false;
    }
    e >>= 1;
    if (e) base = base * base;
  }
  return result;
}

// sigma(s) (neg: sigma(-s)) for s = c x + d (runtime _sigmoid_lin): EXACT, the rounding
// errors of c*x (Dekker) and of the sum (Knuth) applied to first order.
inline double _sigmoid_lin(double c, double x, double d, bool exact, bool neg) {
  const double p = c * x;
  const double s = p + d;
  if (!exact) {
    const double e = std::exp(-std::fabs(s));
    const double q = 1.0 / (1.0 + e);
    const double r = e * q;
    const bool pos = s >= 0;
    return neg ? (pos ? r : q) : (pos ? q : r);
  }
  const double sig = _sigmoid(s);
  const double sig_neg = _sigmoid(-s);
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
  return neg ? sig_neg - corr : sig + corr;
}

// double -> float rounded to odd: a later rounding to a 16-bit format is then the correct
// rounding of the double (24 >= 11 + 2 bits)
inline float _to_float_odd(double v) {
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

template <typename T>
inline T _store(double v) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    return static_cast<T>(v);
  } else {
    return static_cast<T>(_to_float_odd(v));
  }
}

// a scalar parameter (0-d or one-element CPU tensor of any floating dtype) as a double,
// rounded as the PyTorch path rounds it to the compute dtype (float32 for 16-bit inputs)
inline double _param(const at::Tensor& t, at::ScalarType x_dtype) {
  TORCH_CHECK(t.numel() == 1 && t.device().is_cpu(), "scalar CPU parameter expected");
  double v = 0.0;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, t.scalar_type(), "param", [&] {
    v = static_cast<double>(*t.const_data_ptr<scalar_t>());
  });
  if (x_dtype == at::kHalf || x_dtype == at::kBFloat16) v = static_cast<float>(v);
  return v;
}

inline void _check(const at::Tensor& x) {
  TORCH_CHECK(x.device().is_cpu() && x.is_contiguous(), "contiguous CPU tensor expected");
}

// the element loop of a forward pass, on restrict pointers and a local copy of f (captured
// by reference in at::parallel_for's closure, GCC left the forward loop scalar)
template <typename T, bool EXACT, typename F>
void _fwd_loop(const T* __restrict xp, T* __restrict yp, int64_t b, int64_t e, const F f) {
  for (int64_t i = b; i < e; ++i) {
    yp[i] = _store<T>(f(static_cast<double>(xp[i]), std::integral_constant<bool, EXACT>{}));
  }
}

template <typename T, bool EXACT, typename DX>
void _bwd_loop(const T* __restrict gp, const T* __restrict xp, T* __restrict op, int64_t b,
               int64_t e, const DX dx) {
  for (int64_t i = b; i < e; ++i) {
    op[i] = _store<T>(static_cast<double>(gp[i]) *
                      dx(static_cast<double>(xp[i]), std::integral_constant<bool, EXACT>{}));
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
    using Tag = std::integral_constant<bool, exact>;
    at::parallel_for(0, blocks, 1, [&](int64_t bb, int64_t be) {
      for (int64_t blk = bb; blk < be; ++blk) {
        const int64_t b = blk * GRAIN, e = std::min(n, b + GRAIN);
        if (sums) {
          double acc[K > 0 ? K : 1] = {};
          double d[K + 1];
          for (int64_t i = b; i < e; ++i) {
            const double g = static_cast<double>(gp[i]);
            first(static_cast<double>(xp[i]), Tag{}, d);
            op[i] = _store<scalar_t>(g * d[0]);
            for (int k = 0; k < K; ++k) acc[k] += g * d[k + 1];
          }
          for (int k = 0; k < K; ++k) part[static_cast<size_t>(blk) * K + k] = acc[k];
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

}  // namespace
