"""The transformer pairs (:mod:`comparisons.pairs.transformer`), beyond what every declaration is
tested for (tests/pairs/test_declarations.py): the calling styles of real code are met: CS231n's layernorm_forward/backward, a
LayerNorm built from its size, a positional encoding called by position."""

import numpy as np
import pytest

import scratch.normalization as SN
from comparisons.pairs import transformer
from comparisons.verify import format_result, judge, recognise

from .judging import pair_of


def layer(pid):
    return next(p for p in transformer.PAIRS if p.id == pid and p.kind == "layer")


def test_cs231n_layernorm_functions_are_recognised_and_agree(tmp_path):
    """``layernorm_forward(x, gamma, beta, ln_param)`` / ``layernorm_backward(dout, cache)``, wrapped
    by the CS231n adapter, under the layer-norm reference."""
    source = tmp_path / "ln.py"
    source.write_text(
        "import numpy as np\n"
        "def layernorm_forward(x, gamma, beta, ln_param):\n"
        "    eps = ln_param.get('eps', 1e-5)\n"
        "    mu = x.mean(axis=1, keepdims=True)\n"
        "    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)\n"
        "    xhat = (x - mu) / std\n"
        "    return gamma * xhat + beta, (xhat, gamma, std)\n"
        "def layernorm_backward(dout, cache):\n"
        "    xhat, gamma, std = cache\n"
        "    D = dout.shape[1]\n"
        "    g = dout * gamma\n"
        "    dx = (D * g - g.sum(1, keepdims=True) - xhat * (g * xhat).sum(1, keepdims=True)) / (D * std)\n"
        "    return dx, (dout * xhat).sum(0), dout.sum(0)\n")
    from comparisons.verify import load_module

    found, _ = recognise(load_module(str(source)))
    (one,) = found
    assert one.pair.id == "layer-norm" and one.pair.kind == "layer"
    result = judge(one.pair, one.obj, one.name)
    assert result.passed, format_result(result)


class LayerNormFromSize:
    """Built from its size as a torch user writes it; γ = 1, β = 0 in a params dict that the driver sets."""

    def __init__(self, d_model, eps=1e-5):
        self.params = {"gamma": np.ones(d_model), "beta": np.zeros(d_model)}
        self.inner = SN.LayerNorm(self.params["gamma"], self.params["beta"], eps)
        self.grads = self.inner.grads

    def forward(self, x):
        return self.inner.forward(x)

    def backward(self, dout):
        dx = self.inner.backward(dout)
        self.grads = self.inner.grads
        return dx


def test_a_layernorm_built_from_its_size_is_given_the_reference_gamma_and_beta():
    result = judge(layer("layer-norm"), LayerNormFromSize, "LayerNormFromSize")
    assert result.passed, format_result(result)


def test_a_layernorm_whose_gamma_cannot_be_set_is_a_usage_error():
    from comparisons.pairs import VerifyUsageError

    class Opaque:
        def __init__(self, features):
            self._g = np.ones(features)

        def forward(self, x):
            return x

    with pytest.raises(VerifyUsageError, match="γ and β"):
        judge(layer("layer-norm"), Opaque, "Opaque")


def test_a_positional_encoding_is_called_by_name_or_by_position():
    from scratch.transformer import sinusoidal_positional_encoding

    pair = pair_of(transformer.PAIRS, "positional-encoding")

    def by_name(seq_len, d_model):
        return sinusoidal_positional_encoding(seq_len, d_model)[None]  # (1, T, d), as many return it

    def by_position(a, b):
        return sinusoidal_positional_encoding(a, b)

    for fn in (by_name, by_position):
        result = judge(pair, fn, fn.__name__)
        assert result.passed, format_result(result)


def test_an_even_only_positional_encoding_skips_the_odd_width():
    pair = pair_of(transformer.PAIRS, "positional-encoding")

    def even_only(max_len, d_model):
        pe = np.zeros((max_len, d_model))
        angle = np.arange(max_len)[:, None] / 10000 ** (np.arange(0, d_model, 2) / d_model)
        pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle)  # fails for an odd d_model
        return pe

    result = judge(pair, even_only, "even_only")
    assert result.passed and any("odd d" in n for n in result.notes), format_result(result)


def test_a_forward_only_layernorm_is_judged_on_its_forward_pass():
    class ForwardOnly:
        def __init__(self, gamma, beta):
            self.gamma, self.beta = gamma, beta

        def forward(self, x):
            mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
            return self.gamma * (x - mu) / np.sqrt(var + 1e-5) + self.beta

    result = judge(layer("layer-norm"), ForwardOnly, "ForwardOnly")
    assert result.passed and any("no backward" in n for n in result.notes), format_result(result)
    assert all(r.check.startswith("forward") for r in result.records)
