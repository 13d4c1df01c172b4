// Branch-free exp, expm1, log1p, tanh and hypot in double for the ahead-of-time CPU kernels (copied
// verbatim from gemsym/codegen/runtime/_cpu_kernel_math.h; no ATen, so the tests compile it
// alone).
//
// glibc's exp is a function call, which keeps an element loop scalar (Sqish forward:
// ~30 ns per element); these are straight-line code on doubles and 64-bit integers that
// GCC vectorises without -ffast-math.  x = n ln2 + r, |r| <= ln2/2, with ln2 in two parts
// (Cody and Waite; n ln2_hi is exact for |n| < 2^21), e^r - 1 by its Taylor polynomial to
// r^13 (truncation below 2^-57 relative), and 2^n applied in two exact power-of-two
// factors, so subnormal results are rounded once and overflow gives inf.  Within 1 ULP of
// the exact value (tanh: 3; tests/test_cpu_kernel.py measures them against mpmath);
// always inlined (a call in an element loop keeps it scalar).  The kernels use them where a
// double result is rounded to float32 or a 16-bit format.

#include <cmath>
#include <cstdint>
#include <cstring>

// _HD: host and device functions when nvcc compiles the same source for the CUDA kernels
// (_cuda_kernels.cu)
#ifdef __CUDACC__
#define _HD __host__ __device__
#else
#define _HD
#endif

namespace {

constexpr double _LOG2E = 1.4426950408889634;
constexpr double _LN2_HI = 6.93147180369123816490e-01;  // 0x3FE62E42FEE00000
constexpr double _LN2_LO = 1.90821492927058770002e-10;
// 1.5 * 2^52: t + _ROUNDER - _ROUNDER is t rounded to an integer (|t| < 2^51), and the
// low bits of t + _ROUNDER hold that integer plus 2^51
constexpr double _ROUNDER = 6755399441055744.0;

_HD inline double _from_bits(uint64_t b) {
  double d;
  std::memcpy(&d, &b, sizeof d);
  return d;
}

_HD inline uint64_t _to_bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

// e^r - 1 - r for |r| <= ln2/2 + 2^-30: r^2 (1/2! + r/3! + ... + r^11/13!) by Estrin's
// scheme (pairs, then pairs of pairs in r^2, r^4): a chain of 5 multiply-adds where Horner's
// has 12, which bounded the vectorised loops on a CPU that splits 256-bit operations
// (AMD Zen 1: a loop of float32 e^x 7.1 -> 4.8 ns per element); every term is below
// 2^-4 r^2 of the sum's first, so the different rounding order stays far below an ULP
_HD __attribute__((always_inline)) inline double _expm1_tail(double r) {
  const double r2 = r * r;
  const double r4 = r2 * r2;
  const double p0 = 0.5 + r * 0.16666666666666666;                      // 1/2!, 1/3!
  const double p1 = 0.041666666666666664 + r * 0.008333333333333333;    // 1/4!, 1/5!
  const double p2 = 0.001388888888888889 + r * 0.0001984126984126984;   // 1/6!, 1/7!
  const double p3 = 2.48015873015873e-05 + r * 2.7557319223985893e-06;  // 1/8!, 1/9!
  const double p4 = 2.755731922398589e-07 + r * 2.505210838544172e-08;  // 1/10!, 1/11!
  const double p5 = 2.08767569878681e-09 + r * 1.6059043836821613e-10;  // 1/12!, 1/13!
  const double q0 = p0 + r2 * p1;
  const double q1 = p2 + r2 * p3;
  const double q2 = p4 + r2 * p5;
  return r2 * (q0 + r4 * (q1 + r4 * q2));
}

// (n as a biased integer n + 2^51, r_hi, r_lo) for x = n ln2 + r, r = r_hi + r_lo up to
// n 2^-85; r_hi = x - n ln2_hi is exact (Sterbenz); x within +-746
_HD __attribute__((always_inline)) inline void _reduce(double x, uint64_t& nb, double& r_hi,
                                                    double& r_lo) {
  const double t = x * _LOG2E + _ROUNDER;
  const double n = t - _ROUNDER;
  nb = _to_bits(t) & ((uint64_t{1} << 52) - 1);
  r_hi = x - n * _LN2_HI;
  r_lo = -(n * _LN2_LO);
}

// v 2^n for n + 2^51 = nb, |n| <= 1100: two factors 2^(n/2), each a normal number
_HD __attribute__((always_inline)) inline double _scale(double v, uint64_t nb) {
  const uint64_t half = nb >> 1;  // floor(n/2) + 2^50
  const uint64_t n1 = half - (uint64_t{1} << 50);
  const uint64_t n2 = nb - (uint64_t{1} << 51) - n1;
  return (v * _from_bits((n1 + 1023) << 52)) * _from_bits((n2 + 1023) << 52);
}

_HD __attribute__((always_inline)) inline double _vexp(double x) {
  // e^x is inf beyond 709.79 and rounds to 0 below -745.2; NaN passes the clamps
  const double xc = x > 710.0 ? 710.0 : (x < -746.0 ? -746.0 : x);
  uint64_t nb;
  double r_hi, r_lo;
  _reduce(xc, nb, r_hi, r_lo);
  const double r = r_hi + r_lo;
  return _scale(1.0 + (r + _expm1_tail(r)), nb);
}

_HD __attribute__((always_inline)) inline double _vexpm1(double x) {
  // e^x - 1 is -1 below -38 (to double precision); NaN passes the clamps
  const double xc = x > 710.0 ? 710.0 : (x < -40.0 ? -40.0 : x);
  uint64_t nb;
  double r_hi, r_lo;
  _reduce(xc, nb, r_hi, r_lo);
  // e^r - 1 = r_hi + lo: r_hi exact, lo small
  const double lo = r_lo + _expm1_tail(r_hi + r_lo);
  constexpr uint64_t B = uint64_t{1} << 51;  // nb = n + B
  // n <= 0: (2^n - 1) + 2^n (r_hi + lo); 2^n - 1 and the scaling are exact (n >= -58),
  // and for n < 0, 2^n (r_hi + lo) is small against 2^n - 1: one rounding that matters
  const double s = _from_bits(((nb < B ? nb : B) - B + 1023) << 52);
  const double low = (s - 1.0) + s * (r_hi + lo);
  // n >= 1: 2^n ((r_hi + (1 - 2^-k)) + (lo + (2^-k - 2^-n))), k = min(n, 24), then
  // exact scaling: 1 - 2^-k, 2^-k - 2^-n and the first sum are exact (r_hi is a multiple of
  // the ULP of x, 2^-52 or more for n >= 2; n capped at 60: 2^-n is then below a
  // thousandth of an ULP of the result)
  const uint64_t k = nb > B + 24 ? B + 24 : nb;
  const uint64_t m = nb > B + 60 ? B + 60 : nb;
  const double pk = _from_bits((1023 + B - k) << 52);
  const double pm = _from_bits((1023 + B - m) << 52);
  const double high = _scale((r_hi + (1.0 - pk)) + (lo + (pk - pm)), nb);
  const double v = nb > B ? high : low;
  return x == 0.0 ? x : v;  // expm1(-0) = -0
}

// log(1 + x) branch-free in double (musl's log1p, from FreeBSD's, Sun Microsystems 1993):
// 1 + x = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)), the rounding of 1 + x carried as
// c/(1 + x) for k < 54, log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f/(2 + f), R
// musl's degree-7 polynomial in s^2; musl's shortcut for sqrt(2)/2 <= 1 + x < sqrt(2)
// (f = x, c = 0) left out: its masks, mixed with the others, kept GCC from vectorising
// (the general path with c is as accurate there); 64-bit integers only, k converted
// exactly through 2^52 (no 64-bit integer conversion before AVX-512); |x| < 2^-53 gives x,
// -1 -inf, x < -1 NaN, +inf and NaN themselves.  Within 1 ULP (tests/test_cpu_kernel.py
// measures it against mpmath); a loop of float32 log1p(e^-|x|) 27.1 -> 14.9 ns per element
_HD __attribute__((always_inline)) inline double _vlog1p(double x) {
  constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                   Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                   Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                   Lg7 = 1.479819860511658591e-01;
  const double inf = _from_bits(0x7ff0000000000000);  // no <limits>: usable on a GPU
  const double uf = 1.0 + x;
  const uint64_t ui = _to_bits(uf);
  // k + 1023 from the high word of 1 + x moved so that m = (1 + x) 2^-k is in
  // [sqrt(2)/2, sqrt(2)); x > -1, so 1 + x >= 0 and the sign bit is clear
  const uint64_t hu = (ui >> 32) + (0x3ff00000u - 0x3fe6a09eu);
  const uint64_t kb = hu >> 20;
  const double dk =
      _from_bits(uint64_t{0x4330000000000000} | kb) - (4503599627370496.0 + 1023.0);
  // the rounding of 1 + x over 1 + x, for k < 54 (beyond, below half an ULP of the result)
  const double cnum = kb >= 1025 ? 1.0 - (uf - x) : x - (uf - 1.0);
  const double c = kb < 1077 ? cnum / uf : 0.0;
  const double m = _from_bits((((hu & 0x000fffffu) + 0x3fe6a09eu) << 32) | (ui & 0xffffffffu));
  const double f = m - 1.0;
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double v = s * (hfsq + (t2 + t1)) + (dk * _LN2_LO + c) - hfsq + f + dk * _LN2_HI;
  const bool tiny = std::fabs(x) < 0x1p-53;  // subnormals too
  const double nan = _from_bits(0x7ff8000000000000);
  const double special = x == -1.0 ? -inf : (x < -1.0 ? nan : x);
  const bool other = !(x > -1.0) || x == inf;
  return tiny ? x : (other ? special : v);
}

// tanh(t) = -u/(2 + u), u = e^(-2|t|) - 1, with the sign of t (so -0 and NaN pass): the
// relative error of u enters at most twice (|u| < 1), so within 3 ULP of double, not 1
// (2.47 measured over 52009 inputs; tests/test_cpu_kernel.py), far below a float32 or 16-bit
// result's rounding; libm's tanh is a call that kept Mish's element loops scalar
_HD __attribute__((always_inline)) inline double _vtanh(double t) {
  const double u = _vexpm1(-2.0 * std::fabs(t));
  // copysign, not a signbit test: GCC does not vectorise std::signbit
  return std::copysign(-u / (2.0 + u), t);
}

// hypot(a, b) = h sqrt(1 + (l/h)^2), h = max(|a|, |b|), l = min(|a|, |b|): no square of
// either argument (no overflow nor underflow); five roundings, within 3.25 units of 2^-53
// relative (1.90 ULP of double measured on 40000 pairs; tests/test_cpu_kernel.py), far
// below a float32 or 16-bit result's rounding.  +-inf gives inf even with a NaN, as C's
// hypot; a NaN otherwise NaN; h = 0 gives +0.  libm's hypot is a call that kept
// Squareplus's and ISRLU's element loops scalar
_HD __attribute__((always_inline)) inline double _vhypot(double a, double b) {
  const double inf = _from_bits(0x7ff0000000000000);
  const double nan = _from_bits(0x7ff8000000000000);
  const double fa = std::fabs(a), fb = std::fabs(b);
  const double h = fa > fb ? fa : fb;
  const double l = fa > fb ? fb : fa;
  const double r = l / h;
  const double v = h * std::sqrt(1.0 + r * r);
  const bool either_inf = fa == inf || fb == inf;
  const bool either_nan = a != a || b != b;
  return either_inf ? inf : (either_nan ? nan : (h == 0.0 ? 0.0 : v));
}

// the printed formulas' exp, expm1, log1p, tanh and hypot: libm's on the EXACT path
// (float64 results, the PyTorch path's values), the branch-free ones where the result is
// rounded to float32 or a 16-bit format
template <bool EXACT>
_HD inline double _exp(double x) {
  return EXACT ? std::exp(x) : _vexp(x);
}

template <bool EXACT>
_HD inline double _expm1(double x) {
  return EXACT ? std::expm1(x) : _vexpm1(x);
}

template <bool EXACT>
_HD inline double _log1p(double x) {
  return EXACT ? std::log1p(x) : _vlog1p(x);
}

template <bool EXACT>
_HD inline double _tanh(double x) {
  return EXACT ? std::tanh(x) : _vtanh(x);
}

template <bool EXACT>
_HD inline double _hypot(double a, double b) {
  return EXACT ? std::hypot(a, b) : _vhypot(a, b);
}

}  // namespace
