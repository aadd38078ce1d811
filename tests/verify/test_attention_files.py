"""verify on whole files of attention and transformer code written by others: the book's chapter 8
``attention_layer.py`` agrees as published, and a NumPy GPT-2 forward pass in picoGPT's functional
style gets the right verdict for each function, the tanh GELU named as the convention it is."""

from pathlib import Path

import pytest

from comparisons import pairs
from comparisons.verify import format_file_result, format_result, judge, verify_file

from ..pairs.judging import BOOK2, import_from

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GPT2 = FIXTURES / "gpt2_numpy"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_books_attention_layers_agree(dtype, monkeypatch):
    monkeypatch.chdir(BOOK2 / "ch08")  # the book's files import common from the folder above
    result = verify_file("attention_layer.py", dtype=dtype)
    assert {r.target: r.against for r in result.results} == {
        "WeightSum": "weight-sum", "AttentionWeight": "attention-weight", "Attention": "attention",
        "TimeAttention": "time-attention"}
    assert result.passed, format_file_result(result)


def test_a_numpy_gpt2_gets_a_verdict_per_function():
    result = verify_file(str(GPT2 / "gpt2.py"))
    verdicts = {r.target: r.verdict for r in result.results}
    assert verdicts == {"gelu": "differs", "softmax": "agrees", "layer_norm": "agrees", "attention": "agrees",
                        "mha": "agrees", "transformer_block": "differs", "gpt2": "differs"}, format_file_result(result)
    for r in result.results:
        if r.verdict == "differs":  # GPT-2's tanh GELU, named with its flag
            assert r.hint.startswith("a convention, not a mistake: the tanh approximation"), format_result(r)
            assert "--hparam approximate=tanh" in r.hint
    attention = next(r for r in result.results if r.target == "attention")
    assert any("additive mask" in n and "−1e10" in n for n in attention.notes)
    assert {name for name, _ in result.skipped} == {"linear", "ffn", "generate"}


@pytest.mark.parametrize("name, kind, against", [("gelu", "function", "gelu"),
                                                 ("transformer_block", "function", "transformer-block"),
                                                 ("gpt2", "function", "gpt2")])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_with_the_tanh_gelu_flag_gpt2_agrees(name, kind, against, dtype):
    module = import_from(GPT2, "gpt2.py", ())
    result = judge(pairs.get(kind, against), getattr(module, name), name, {"approximate": "tanh"}, dtype=dtype)
    assert result.passed, format_result(result)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layers_with_a_hand_written_backward_agree_as_written(dtype):
    """A LayerNorm built from its size (γ, β as attributes, dgamma/dbeta), an exact GELU, and a
    self-attention class taking W_q … b_o by name, a boolean keep-mask, its gradients as dW_q …"""
    result = verify_file(str(FIXTURES / "transformer_numpy" / "layers.py"), dtype=dtype)
    assert {r.target: r.against for r in result.results} == {"LayerNorm": "layer-norm", "GELU": "gelu",
                                                            "softmax": "softmax", "MultiHeadSelfAttention": "mha"}
    assert result.passed, format_file_result(result)
    mha = next(r for r in result.results if r.target == "MultiHeadSelfAttention")
    assert any(r.check.startswith("backward dWq") for r in mha.records)
    assert any("True where a query may attend" in n for n in mha.notes)
