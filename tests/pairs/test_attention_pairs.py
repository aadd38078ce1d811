"""The attention pairs (:mod:`comparisons.pairs.attention` and :mod:`comparisons.pairs.mha`), beyond what every declaration is tested
for (tests/pairs/test_declarations.py): the code under test is called the way it is written: its mask in any of the three forms found in the wild, its
weights by the names it asks for, its backward only where it has one."""

import numpy as np
import pytest

import scratch.attention as SA
from comparisons import pairs
from comparisons.pairs import attention
from comparisons.verify import format_result, judge

from .judging import pair_of


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def additive(q, k, v, mask):
    """picoGPT's form: 0 where a query may attend, −1e10 where not, added to the scores."""
    return _softmax(q @ k.T / np.sqrt(q.shape[-1]) + mask) @ v


def keep(query, key, value, attn_mask=None):
    """SDPA's boolean form, True = attend; the −∞ set by np.where; returns (out, weights)."""
    s = query @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])
    if attn_mask is not None:
        s = np.where(attn_mask, s, -np.inf)
    w = _softmax(s)
    return w @ value, w


def block(q, k, v, mask):
    """nn.MultiheadAttention's boolean form, True = masked out, with a large negative number."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    return _softmax(np.where(mask, -1e9, s)) @ v


@pytest.mark.parametrize("fn, form", [(additive, "additive mask"), (keep, "True where a query may attend"),
                                      (block, "True where a query may NOT attend")])
def test_each_mask_form_is_read_off_the_code_and_agrees(fn, form):
    pair = pair_of(attention.PAIRS, "attention")
    result = judge(pair, fn, fn.__name__)
    assert result.passed, format_result(result)
    assert any(form in n for n in result.notes), result.notes
    if fn is keep:  # the weights it returns are compared too
        assert any(r.check.startswith("attention weights") for r in result.records)
    if fn is additive:  # written for one sequence: k.T fails on a batch, which is skipped, not wrong
        assert sum("skipped" in n for n in result.notes) == 2


def test_a_function_without_a_mask_is_judged_on_the_unmasked_cases():
    def attention_no_mask(q, k, v):
        return _softmax(q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])) @ v

    result = judge(pair_of(attention.PAIRS, "attention"), attention_no_mask, "attention_no_mask")
    assert result.passed and any("takes no mask" in n for n in result.notes)
    assert not any("causal" in r.check or "padding" in r.check for r in result.records)


def test_the_books_unscaled_attention_agrees_with_scale_one():
    def attention_unscaled(q, k, v, mask):
        return _softmax(q @ np.swapaxes(k, -1, -2) + mask) @ v

    pair = pair_of(attention.PAIRS, "attention")
    assert judge(pair, attention_unscaled, "unscaled").verdict == "differs"
    assert judge(pair, attention_unscaled, "unscaled", {"scale": 1}).passed


class WithoutBackward:
    """A forward-only class built from the separate weights by name."""

    def __init__(self, Wq, bq, Wk, bk, Wv, bv, Wo, bo, num_heads):
        self.layer = SA.MultiHeadAttention(dict(Wq=Wq, bq=bq, Wk=Wk, bk=bk, Wv=Wv, bv=bv, Wo=Wo, bo=bo), num_heads)

    def forward(self, x, causal=False):
        return self.layer.forward(x, is_causal=causal)


def test_a_class_without_backward_is_judged_on_its_forward_pass():
    result = judge(pairs.get("layer", "mha"), WithoutBackward, "WithoutBackward")
    assert result.passed, format_result(result)
    assert any("no backward" in n for n in result.notes)
    forward = {"forward, self-attention", "forward, causal self-attention"}  # each called twice (a second call)
    assert {r.check for r in result.records} == forward | {f"{c} (second call)" for c in forward}


def test_a_class_that_takes_a_mask_has_its_form_detected():
    class MaskedMHA(SA.MultiHeadAttention):
        def forward(self, x, mask=None):
            return super().forward(x, mask=None if mask is None else ~mask)  # its mask: True = blocked

    result = judge(pairs.get("layer", "mha"), MaskedMHA, "MaskedMHA")
    assert result.passed, format_result(result)
    assert any("True where a query may NOT attend" in n for n in result.notes)


def test_a_forward_only_book_layer_is_judged_on_its_forward_pass():
    class Attention:
        def forward(self, hs, h):
            return SA.Attention().forward(hs, h)

    result = judge(pairs.get("layer", "attention"), Attention, "Attention")
    assert result.passed and any("no backward" in n for n in result.notes), format_result(result)
