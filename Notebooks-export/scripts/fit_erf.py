#!/usr/bin/env python3
"""Fits the float32 polynomials of the vectorised erf and exp in
Sources/CKernels/vector_math.h and reports their emulated accuracy.

    python3 Notebooks-export/scripts/fit_erf.py

Needs numpy and scipy. Prints the coefficients as C hex-float literals (paste
them into vector_math.h) and the largest error, in float32 ulps, of a
float32 emulation of the kernels against scipy's double-precision erf / exp
on a dense grid. The kernels themselves are checked against glibc's erff
and expf by Tests/FeatureExtractionTests/TransformerKernelTests.swift.

Method (the coefficients are fitted here, none are copied):

  erf, |x| < 7/8:    erf(x) = x + x·q(x²),  q(s) ≈ erf(√s)/√s − 1, degree 6 in s;
                     the final fused multiply-add adds a small correction to x.
  erf, 7/8 ≤ |x|:    erf(x) = sign(x)·(1 − exp(p(t))),  t = min(|x|, 4),
                     p(t) ≈ log(erfc(t)), degree 8 in t; at t = 4 the result
                     rounds to 1 in float32, as erf(x) does for every x ≥ 3.92.
                     Approximating log(erfc) by a polynomial and exponentiating
                     follows N. Juffa's faithfully rounded erff
                     (https://stackoverflow.com/a/35148199).
  exp:               x = n·ln 2 + r (Cody & Waite, "Software Manual for the
                     Elementary Functions", 1980: ln 2 split in a high part with
                     trailing zero bits and a low part), |r| ≤ ln2/2,
                     e^r = 1 + r·P(r) with P of degree 6, then scaled by 2^n.

Each polynomial is a weighted minimax fit (the largest relative error of the
final function, solved as a linear programme on a dense grid); the
coefficients are then rounded to float32 one at a time from the highest
degree down, refitting the lower ones after each rounding.
"""
import numpy as np
from scipy.optimize import linprog
from scipy.special import erf, erfc

SPLIT = 0.875   # region boundary for erf
CLAMP = 4.0     # erf's tail argument is clamped here
LOG2E = np.float32(1.4426950408889634)
LN2_HI = np.float32(0.693145751953125)            # 0x1.62e400p-1: 9 trailing zero bits
LN2_LO = np.float32(np.log(2) - 0.693145751953125)


def minimax(xs, f, w, var, degree, fixed):
    """Coefficients c (monomials in var(xs)) minimising max_i w_i·|Σ c_j v_i^j − f_i|,
    with the coefficients in `fixed` held at the given values."""
    v = var(xs)
    basis = np.vander(v, degree + 1, increasing=True)
    free = [j for j in range(degree + 1) if j not in fixed]
    rhs = f - sum(basis[:, j] * c for j, c in fixed.items())
    m = w[:, None] * basis[:, free]
    ones = np.ones((len(xs), 1))
    a_ub = np.vstack([np.hstack([m, -ones]), np.hstack([-m, -ones])])
    b_ub = np.concatenate([w * rhs, -w * rhs])
    cost = np.zeros(len(free) + 1)
    cost[-1] = 1
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * (len(free) + 1), method="highs")
    assert res.status == 0, res.message
    out = dict(fixed)
    out.update({j: res.x[i] for i, j in enumerate(free)})
    return out


def fit_float32(xs, f, w, var, degree):
    """Minimax fit, then round to float32 from the highest degree down."""
    fixed = {}
    for j in reversed(range(degree + 1)):
        fixed[j] = float(np.float32(minimax(xs, f, w, var, degree, fixed)[j]))
    return [fixed[j] for j in range(degree + 1)]


# float32 emulation of the kernels: products of two float32 are exact in
# float64, so a·b + c in float64 rounded to float32 is a fused multiply-add
# (up to a rare double rounding, which does not matter for an error report).
def fma(a, b, c):
    return (np.float64(a) * np.float64(b) + np.float64(c)).astype(np.float32)


def horner(coefficients, v):
    r = np.full(v.shape, np.float32(coefficients[-1]), np.float32)
    for c in reversed(coefficients[:-1]):
        r = fma(r, v, np.float32(c))
    return r


def ulps(y, reference):
    """|y − reference| in units of the float32 spacing at reference."""
    r = np.abs(reference).astype(np.float32)
    spacing = np.nextafter(r, np.float32(np.inf)).astype(np.float64) - r
    return np.abs(np.float64(y) - reference) / spacing


def exp_kernel(x, p):
    n = np.rint((x * LOG2E).astype(np.float32)).astype(np.float32)
    r = fma(n, -LN2_HI, x)
    r = fma(n, -LN2_LO, r)
    y = fma(horner(p, r), r, np.float32(1))
    return (y * np.exp2(np.float64(n)).astype(np.float32)).astype(np.float32)


def erf_kernel(x, q, p, e):
    t = np.abs(x)
    small = fma(x, horner(q, (x * x).astype(np.float32)), x)
    tail = np.copysign((np.float32(1) - exp_kernel(horner(p, np.minimum(t, np.float32(CLAMP))), e)).astype(np.float32), x)
    return np.where(t < np.float32(SPLIT), small, tail)


def hexfloat(c):
    mantissa, exponent = float(np.float32(c)).hex().split("p")
    return mantissa.rstrip("0").rstrip(".") + "p" + exponent


def main():
    # exp: e^r = 1 + r·P(r) on |r| ≤ ln2/2 (slightly widened), relative error.
    half = np.log(2) / 2 * 1.01
    r = np.linspace(-half, half, 4001)
    r = r[np.abs(r) > 1e-6]
    e = fit_float32(r, (np.exp(r) - 1) / r, np.abs(r) / np.exp(r), lambda v: v, 6)
    # erf, small |x|: relative error of x + x·q(x²).
    x = np.linspace(1e-4, SPLIT, 3000)
    q = fit_float32(x, erf(x) / x - 1, x / erf(x), lambda v: v * v, 6)
    # erf, tail: the error of 1 − exp(p) relative to erf is erfc/erf times p's error.
    t = np.linspace(SPLIT, CLAMP, 4000)
    p = fit_float32(t, np.log(erfc(t)), erfc(t) / erf(t), lambda v: v, 8)

    for name, cs in [("exp P(r)", e), ("erf q(s)", q), ("erf p(t)", p)]:
        print("%s, constant term first:" % name)
        print("  " + ", ".join(hexfloat(c) + "f" for c in cs))
    xs = np.linspace(-87, 0, 2_000_001).astype(np.float32)
    print("exp on [-87, 0]: max error %.3f ulp" % ulps(exp_kernel(xs, e), np.exp(np.float64(xs))).max())
    xs = np.linspace(-4.5, 4.5, 4_000_001).astype(np.float32)
    xs = xs[xs != 0]
    print("erf on [-4.5, 4.5]: max error %.3f ulp" % ulps(erf_kernel(xs, q, p, e), erf(np.float64(xs))).max())
    xs = np.geomspace(1e-30, 1e-3, 200_001).astype(np.float32)
    print("erf on [1e-30, 1e-3]: max error %.3f ulp" % ulps(erf_kernel(xs, q, p, e), erf(np.float64(xs))).max())


if __name__ == "__main__":
    main()
