"""Activation functions (활성화 함수) and their derivatives, by hand in NumPy.

Each function maps the total input of a neuron, ``a = x @ W + b``, to its output ``h(a)``. The
derivative functions (``*_grad``) return ``dh/da`` element by element; the layers in
``scratch.layers`` multiply them by the upstream gradient in ``backward``.

Conventions at the kinks follow PyTorch so the two sides can be compared exactly:
ReLU'(0) = 0, LeakyReLU'(0) = negative_slope, step'(x) = 0 everywhere (the derivative at 0 does
not exist; we use 0 there as well). At NaN too: ReLU'(NaN) = 1 (PyTorch blocks the gradient only
where the output is <= 0, and NaN <= 0 is false), LeakyReLU'(NaN) = negative_slope, ELU'(NaN) = 1.

GELU needs the error function erf, which NumPy does not have (and SciPy is no dependency):
:func:`erf` below evaluates it elementwise in float64 with the rational approximations of
FDLIBM's ``s_erf.c`` (error below one unit in the last place, so it agrees with ``math.erf``
to float64 rounding).
"""

from __future__ import annotations

import numpy as np

import math

from ._checks import as_float_array, check_axis, check_positive, check_real, check_shape


def step(x):
    """Step function (계단 함수): h(x) = 1 if x > 0 else 0."""
    x = as_float_array(x, "x")
    return (x > 0).astype(x.dtype)


def step_grad(x):
    """Derivative of the step function: 0 everywhere (undefined at 0, taken as 0)."""
    x = as_float_array(x, "x")
    return np.zeros_like(x)


def identity(x):
    """Identity function (항등 함수): h(x) = x. Used at the output of a regression network."""
    return as_float_array(x, "x").copy()


def identity_grad(x):
    """Derivative of the identity: 1 everywhere."""
    return np.ones_like(as_float_array(x, "x"))


def sigmoid(x):
    """Sigmoid (시그모이드), the logistic function: σ(x) = 1 / (1 + exp(−x)).

    Written in the form that never overflows: with z = exp(−|x|) ≤ 1,
    σ(x) = 1 / (1 + z) for x ≥ 0 and σ(x) = z / (1 + z) for x < 0.
    """
    x = as_float_array(x, "x")
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_grad(x):
    """σ'(x) = σ(x)(1 − σ(x)). Its largest value is 0.25, at x = 0."""
    y = sigmoid(x)
    return y * (1.0 - y)


def tanh(x):
    """Hyperbolic tangent (하이퍼볼릭탄젠트): tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ) = 2σ(2x) − 1. Zero-centred."""
    return np.tanh(as_float_array(x, "x"))


def tanh_grad(x):
    """tanh'(x) = 1 − tanh(x)², evaluated as (1 − y)(1 + y) with y = tanh(x).

    Where tanh saturates (|y| → 1), 1 − y·y subtracts two nearly equal numbers and keeps only the
    rounding error of y·y (up to ~1e-9 relative error at |x| ≈ 9 in float64). 1 − y is exact for
    y ≥ ½, so the factored form loses nothing; it also agrees with PyTorch's kernel, which
    evaluates 1 − y·y with one fused multiply-add.
    """
    y = tanh(x)
    return tanh_grad_from_output(y)


def tanh_grad_from_output(y):
    """1 − y² as (1 − y)(1 + y), given the output y = tanh(x)."""
    y = as_float_array(y, "y")
    return (1.0 - y) * (1.0 + y)


def relu(x):
    """Rectified linear unit: ReLU(x) = max(0, x)."""
    x = as_float_array(x, "x")
    return np.maximum(x, 0.0).astype(x.dtype)


def relu_grad(x):
    """ReLU'(x) = 0 if x <= 0 else 1 (0 at x = 0, as PyTorch; 1 at NaN, as PyTorch, whose backward
    blocks the gradient where the output is <= 0: the book's ``mask = (x <= 0)`` does the same)."""
    x = as_float_array(x, "x")
    return (~(x <= 0)).astype(x.dtype)


def leaky_relu(x, negative_slope: float = 0.01):
    """Leaky ReLU: x if x > 0 else negative_slope · x."""
    x = as_float_array(x, "x")
    check_real(negative_slope, "negative_slope")
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype)


def leaky_relu_grad(x, negative_slope: float = 0.01):
    """Leaky ReLU'(x) = 1 if x > 0 else negative_slope (negative_slope at x = 0, as PyTorch)."""
    x = as_float_array(x, "x")
    check_real(negative_slope, "negative_slope")
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def elu(x, alpha: float = 1.0):
    """Exponential linear unit: x if x > 0 else α(eˣ − 1)."""
    x = as_float_array(x, "x")
    check_positive(alpha, "alpha", allow_zero=True)
    # exp is evaluated only where it is used, so large positive x cannot overflow.
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))).astype(x.dtype)


def elu_grad(x, alpha: float = 1.0):
    """ELU'(x) = α·eˣ if x ≤ 0 else 1 (torch's test, so a NaN gets 1 as in torch)."""
    x = as_float_array(x, "x")
    check_positive(alpha, "alpha", allow_zero=True)
    return np.where(x <= 0, alpha * np.exp(np.minimum(x, 0.0)), 1.0).astype(x.dtype)


def maxout(x, W, b):
    """Maxout with k pieces: h(x)_j = max_i (x @ W[i] + b[i])_j.

    Shapes: x (N, in), W (k, in, out), b (k, out) → (N, out). ReLU is the special case of two
    pieces where one piece is fixed at zero.
    """
    x = as_float_array(x, "x")
    W = as_float_array(W, "W")
    b = as_float_array(b, "b")
    if x.ndim != 2 or W.ndim != 3 or b.shape != (W.shape[0], W.shape[2]) or x.shape[1] != W.shape[1]:
        raise ValueError(
            "maxout expects x (N, in), W (k, in, out) and b (k, out); "
            f"got x{x.shape}, W{W.shape}, b{b.shape}"
        )
    pieces = np.einsum("ni,kio->nko", x, W) + b  # (N, k, out)
    return pieces.max(axis=1)


# --- the error function and GELU -------------------------------------------------------------------

# The coefficients of the rational approximations of erf and erfc below are those of FDLIBM's
# s_erf.c, which carries this notice:
#   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
#   Developed at SunSoft, a Sun Microsystems, Inc. business.
#   Permission to use, copy, modify, and distribute this software is freely granted, provided that
#   this notice is preserved.
_ERX = 8.45062911510467529297e-01  # erf(1) rounded to float32: erf(1 + s) = _ERX + P(s)/Q(s)
_EFX = 1.28379167095512586316e-01  # 2/√π − 1: erf(x) = x + _EFX·x for |x| < 2⁻²⁸
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)


def _poly(coefficients, z):
    """c₀ + c₁z + c₂z² + … by Horner's rule (in place on one new array)."""
    out = coefficients[-1] * z
    out += coefficients[-2]
    for c in coefficients[-3::-1]:
        out *= z
        out += c
    return out


def erf(x):
    """The error function erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt, elementwise, in float64 (float32 in, float32 out).

    NumPy has no erf and ``np.vectorize(math.erf)`` calls Python once per element (too slow for a
    transformer's MLP), so this is FDLIBM's method, vectorised over the ranges of a = |x|
    (erf is odd: erf(−x) = −erf(x)):

        a < 0.84375          erf = x + x·P(x²)/Q(x²)                    (odd Taylor-like expansion)
        0.84375 ≤ a < 1.25    erf = sign(x)·(c + P₁(a − 1)/Q₁(a − 1)),  c = erf(1) in float32
        1.25 ≤ a < 6          erfc(a) = exp(−a² − 0.5625 + R(1/a²)/S(1/a²)) / a,  erf = sign(x)·(1 − erfc)
                              (one fit R/S below 1/0.35 ≈ 2.857, another above)
        a ≥ 6                 erf = sign(x)·1 (erfc(6) ≈ 2e−17 is below half a unit of 1)

    In the third range e^(−a²) is formed as e^(−z²)·e^((z − a)(z + a)) with z = a cut to its
    leading 21 bits, so z² is exact and no rounding of a² is amplified by the exponential.
    The error is below one unit in the last place (FDLIBM's bound), i.e. the result agrees with
    ``math.erf`` to float64 rounding; the tests check it against ``np.vectorize(math.erf)``.
    """
    x = as_float_array(x, "x")
    x64 = x.astype(np.float64, copy=False)
    a = np.abs(x64)
    out = np.empty_like(a)
    small = a < 0.84375
    xs = x64[small]
    z = xs * xs
    out[small] = xs + xs * (_poly(_PP, z) / _poly(_QQ, z))
    near_one = (a >= 0.84375) & (a < 1.25)
    s = a[near_one] - 1.0
    out[near_one] = _ERX + _poly(_PA, s) / _poly(_QA, s)
    for low, high, r, q in ((1.25, 1.0 / 0.35, _RA, _SA), (1.0 / 0.35, 6.0, _RB, _SB)):
        tail = (a >= low) & (a < high)
        out[tail] = 1.0 - _erfc_tail(a[tail], r, q)
    flat = ~(a < 6.0)  # NaN falls here and stays NaN
    out[flat] = np.where(np.isnan(a[flat]), np.nan, 1.0)
    np.copysign(out, x64, out=out)  # the small range has x's sign already
    return out.astype(x.dtype, copy=False)


def _erfc_tail(a, r, q):
    """erfc(a) = exp(−a² − 0.5625 + R/S)/a for 1.25 ≤ a < 6, R/S the fit in 1/a² (coefficients r, q)."""
    s = 1.0 / (a * a)
    z = (a.view(np.int64) & ~np.int64(0xFFFFFFFF)).view(np.float64)  # a with the low 32 bits cleared
    return np.exp(-z * z - 0.5625) * np.exp((z - a) * (z + a) + _poly(r, s) / _poly(q, s)) / a


_GELU_FORMS = ("none", "tanh")
_SQRT_2_OVER_PI = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5  # √(2/π), as PyTorch's kBeta
_GELU_KAPPA = 0.044715
_NORMAL_PDF_AT_0 = 0.5 * (2.0 / math.sqrt(math.pi)) * math.sqrt(0.5)  # 1/√(2π), as PyTorch's kAlpha


def _gelu_form(approximate):
    if approximate not in _GELU_FORMS:
        raise ValueError(f"approximate argument must be either none or tanh, got approximate={approximate!r}")
    return approximate


def gelu(x, approximate: str = "none"):
    """Gaussian error linear unit (Hendrycks & Gimpel 2016): GELU(x) = x·Φ(x), Φ the standard normal CDF.

        approximate='none':  GELU(x) = ½·x·(1 + erf(x/√2))                       (exact; nn.GELU())
        approximate='tanh':  GELU(x) ≈ ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))    (GPT-2's form)

    The two forms differ by at most 4.73e-4 (near |x| ≈ 2.70); the tests measure the gap.
    Evaluated in PyTorch's order, in float64 (a float32 x gets a float32 result, rounded once), so
    float64 agrees with ``nn.GELU`` to rounding. (In float32 the tanh form's 1 ± tanh(u) near
    saturation would keep only the last bit of tanh(u), and one unit of error there is ~1e-6 of GELU'.)
    """
    return _gelu_and_grad(x, approximate)[0]


def gelu_grad(x, approximate: str = "none"):
    """GELU'(x), elementwise.

        approximate='none':  Φ(x) + x·φ(x),   φ(x) = e^(−x²/2)/√(2π)
        approximate='tanh':  with u = √(2/π)(x + 0.044715x³), t = tanh(u):
                             ½(1 + t) + ½x·(1 − t²)·√(2/π)(1 + 3·0.044715x²)
    """
    return _gelu_and_grad(x, approximate)[1]


def _gelu_and_grad(x, approximate: str = "none"):
    """(GELU(x), GELU'(x)) from one evaluation of Φ and its derivative, GELU = x·Φ(x), GELU' = Φ + x·Φ'
    (for the tanh form Φ is ½(1 + t)): a layer keeps GELU' from its forward pass for its backward."""
    x = as_float_array(x, "x")
    approximate = _gelu_form(approximate)
    x64 = x.astype(np.float64, copy=False)
    if approximate == "tanh":
        x_sq = x64 * x64
        t = np.tanh(_SQRT_2_OVER_PI * (x64 + _GELU_KAPPA * (x_sq * x64)))
        cdf = 0.5 * (1.0 + t)
        cdf_grad = 0.5 * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_KAPPA * x_sq)
    else:
        cdf = 0.5 * (1.0 + erf(x64 * math.sqrt(0.5)))
        cdf_grad = _NORMAL_PDF_AT_0 * np.exp(-0.5 * x64 * x64)
    return (x64 * cdf).astype(x.dtype, copy=False), (cdf + x64 * cdf_grad).astype(x.dtype, copy=False)


def softmax(x, axis: int = -1):
    """Softmax (소프트맥스): yₖ = exp(xₖ − C) / Σᵢ exp(xᵢ − C) with C = max(x).

    Subtracting any constant C leaves the result unchanged (multiply numerator and denominator by
    e^(−C)); choosing the maximum keeps every exponent ≤ 0, so nothing overflows.
    As in torch, an empty axis gives an empty result and a 0-d x is a vector of one element (→ 1).
    """
    x, axis, shape = _with_axis(x, axis)
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    e = np.exp(shifted)
    return (e / np.sum(e, axis=axis, keepdims=True)).reshape(shape)


def softmax_naive(x, axis: int = -1):
    """Softmax without the shift: exp(x) / Σ exp(x). Overflows to nan for inputs like 1010."""
    x, axis, shape = _with_axis(x, axis)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(x)
        return (e / np.sum(e, axis=axis, keepdims=True)).reshape(shape)


def softmax_backward(y, dout, axis: int = -1):
    """Vector-Jacobian product of softmax: dx = y ⊙ (dout − Σ(dout ⊙ y)), given y = softmax(x)."""
    y, axis, shape = _with_axis(y, axis, "y")
    dout = as_float_array(dout, "dout")
    check_shape(dout, shape, "dout", " (the shape of y)")
    dout = dout.reshape(y.shape)
    return (y * (dout - np.sum(dout * y, axis=axis, keepdims=True))).reshape(shape)


def _with_axis(x, axis, name="x"):
    """(x as a float array of at least one dimension, the checked axis, x's own shape).

    A 0-d x is taken as a vector of one element, as torch does for ``dim`` on a 0-d tensor."""
    x = as_float_array(x, name)
    return x.reshape(x.shape or (1,)), check_axis(axis, x.ndim), x.shape
