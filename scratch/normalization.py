"""Layer normalization and group normalization (층 정규화, 그룹 정규화) by hand.

Batch normalization (``layers.BatchNorm1d``) standardises every *feature* over the *batch*:
for x (N, D) it takes the mean and variance of each column. Layer normalization uses the very
same formula over the *other* axis: the mean and variance of each *row* (one sample's D features),

    μ = (1/D) Σⱼ xⱼ,   σ² = (1/D) Σⱼ (xⱼ − μ)²  (biased),   x̂ = (x − μ)/√(σ² + ε),   out = γ ⊙ x̂ + β

so LayerNorm(x) with γ = 1, β = 0 is the batch-norm standardisation of xᵀ, transposed back.
Nothing depends on the other samples, so training and evaluation are the same and there are no
running statistics: that is why transformers use it. γ and β have one entry per feature (D,),
as in batch norm, but here they act along the normalised axis.

Group normalization (Wu & He 2018) sits between the two for images (N, C, H, W): the C channels
are split into G groups, and each sample's group of C/G channels × H × W values is standardised
together; γ and β are per channel (C,). G = 1 is layer norm over (C, H, W); G = C is instance norm.

backward of the standardisation over an axis of M values (from x̂ and σ of the forward pass),
for the upstream gradient g of x̂:

    dx = (1/(M·√(σ² + ε))) · (M·g − Σg − x̂·Σ(g ⊙ x̂))        (the sums over the normalised axis)

the formula of batch norm's backward, with the sums taken over the features instead of the batch.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_dout, as_float_array, check_finite, check_int, check_ndim, check_positive, check_shape
from .layers import Layer


def standardize(x, eps: float = 1e-5):
    """x̂ = (x − μ)/√(σ² + ε) over the last axis (μ and the biased σ² of each row); returns (x̂, √(σ² + ε))."""
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    std = np.sqrt(np.mean(xc * xc, axis=-1, keepdims=True) + eps)
    return xc / std, std


def standardize_backward(dxhat, xhat, std):
    """dx from dx̂ for :func:`standardize`: (M·g − Σg − x̂·Σ(g x̂))/(M·std), sums over the last axis."""
    m = xhat.shape[-1]
    return (m * dxhat - dxhat.sum(axis=-1, keepdims=True)
            - xhat * np.sum(dxhat * xhat, axis=-1, keepdims=True)) / (m * std)


def _affine_params(gamma, beta, who):
    gamma, beta = as_float_array(gamma, "gamma"), as_float_array(beta, "beta")
    check_ndim(gamma, 1, "gamma", "(D,)")
    check_shape(beta, gamma.shape, "beta", " (the shape of gamma)")
    if gamma.shape[0] == 0:
        raise ValueError(f"{who} expects gamma and beta of shape (D,) with D >= 1, got gamma{gamma.shape}")
    check_finite(gamma, "gamma")
    check_finite(beta, "beta")
    return gamma, beta


def layer_norm_forward(x, gamma, beta, eps: float = 1e-5):
    """LayerNorm over the last axis of x (…, D): out = γ ⊙ (x − μ)/√(σ² + ε) + β, μ and the biased
    σ² taken per row. Returns (out, cache); see the module's docstring for the formula."""
    x = as_float_array(x, "x")
    gamma, beta = _affine_params(gamma, beta, "layer_norm_forward")
    check_positive(eps, "eps")
    D = gamma.shape[0]
    if x.ndim == 0 or x.shape[-1] != D:
        raise ValueError(f"layer norm expects x of shape (…, {D}) (the last axis normalised, D from gamma), "
                         f"got x{x.shape}")
    xhat, std = standardize(x, eps)
    return gamma * xhat + beta, (xhat, std, gamma)


def layer_norm_backward(dout, cache):
    """(dx, dγ, dβ) of :func:`layer_norm_forward`:

        dγ = Σ_rows dout ⊙ x̂,   dβ = Σ_rows dout,   dx = standardize_backward(dout ⊙ γ)
    """
    xhat, std, gamma = cache
    dout = as_dout(dout, xhat.shape)
    d2 = dout.reshape(-1, gamma.shape[0])
    dgamma = np.sum(d2 * xhat.reshape(d2.shape), axis=0)
    dbeta = d2.sum(axis=0)
    return standardize_backward(dout * gamma, xhat, std), dgamma, dbeta


class LayerNorm(Layer):
    """Layer normalization over the last axis (``nn.LayerNorm(D, eps)``): x (…, D) → γ ⊙ x̂ + β.

    ``params``: gamma (D,) and beta (D,) (PyTorch's ``weight`` and ``bias``); eps = 1e-5 as PyTorch;
    the variance is the biased one (divided by D). It is batch norm's formula over the other
    axis: per sample over its features, not per feature over the batch (module docstring).
    """

    def __init__(self, gamma, beta, eps: float = 1e-5):
        super().__init__()
        gamma, beta = _affine_params(gamma, beta, "LayerNorm")
        check_positive(eps, "eps")
        self.params = {"gamma": gamma, "beta": beta}
        self.grads = {"gamma": np.zeros_like(gamma), "beta": np.zeros_like(beta)}
        self.eps = eps
        self._cache = None

    def forward(self, x):
        out, self._cache = layer_norm_forward(x, self.params["gamma"], self.params["beta"], self.eps)
        return out

    def backward(self, dout):
        self._need_forward(self._cache)
        dx, self.grads["gamma"], self.grads["beta"] = layer_norm_backward(dout, self._cache)
        return dx


class GroupNorm(Layer):
    """Group normalization of x (N, C, *) with G groups (``nn.GroupNorm(G, C, eps)``), CS231n's
    spatial group norm:

        x viewed as (N, G, C/G · H · W):  x̂ = standardize(each sample's group),
        out[:, c] = γ_c · x̂[:, c] + β_c        γ, β of shape (C,) (PyTorch's weight and bias)

    backward: dγ_c = Σ_{n,h,w} dout ⊙ x̂, dβ_c = Σ_{n,h,w} dout, and dx from dx̂ = dout ⊙ γ by the
    standardisation's backward over each group (module docstring).
    """

    def __init__(self, num_groups: int, gamma, beta, eps: float = 1e-5):
        super().__init__()
        gamma, beta = _affine_params(gamma, beta, "GroupNorm")
        G = check_int(num_groups, "num_groups", minimum=1)
        C = gamma.shape[0]
        if C % G:
            raise ValueError(f"num_channels must be divisible by num_groups: gamma has C = {C} channels, "
                             f"num_groups = {G}")
        check_positive(eps, "eps")
        self.num_groups, self.eps = G, eps
        self.params = {"gamma": gamma, "beta": beta}
        self.grads = {"gamma": np.zeros_like(gamma), "beta": np.zeros_like(beta)}
        self._cache = None

    def _channel(self, v, ndim):
        """A per-channel vector (C,) shaped to broadcast over x (N, C, *)."""
        return v.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x):
        x = as_float_array(x, "x")
        C = self.params["gamma"].shape[0]
        if x.ndim < 2 or x.shape[1] != C or x.shape[0] == 0:
            raise ValueError(f"GroupNorm expects x of shape (N, {C}, *) with N >= 1 (C from gamma), got x{x.shape}")
        N = x.shape[0]
        xhat, std = standardize(x.reshape(N, self.num_groups, -1), self.eps)
        self._cache = (xhat, std, x.shape)
        xhat = xhat.reshape(x.shape)
        return self._channel(self.params["gamma"], x.ndim) * xhat + self._channel(self.params["beta"], x.ndim)

    def backward(self, dout):
        self._need_forward(self._cache)
        xhat_g, std, shape = self._cache
        dout = as_dout(dout, shape)
        xhat = xhat_g.reshape(shape)
        axes = (0,) + tuple(range(2, len(shape)))  # every axis but the channels
        self.grads["gamma"] = np.sum(dout * xhat, axis=axes)
        self.grads["beta"] = np.sum(dout, axis=axes)
        dxhat = (dout * self._channel(self.params["gamma"], len(shape))).reshape(xhat_g.shape)
        return standardize_backward(dxhat, xhat_g, std).reshape(shape)
