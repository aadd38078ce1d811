"""Every compared pair, from its declaration: scratch's object agrees with PyTorch in both dtypes
(at seed 0 here, at seeds 1-4 in ``make test-all``), every entry of its catalogue is caught with its
hint (a convention agrees once its flag is given), and the declaration is complete. Nothing here
is written per pair: a new declaration is tested by adding it."""

import inspect

import pytest

import scratch
from comparisons import pairs
from comparisons.verify import format_result, judge

PAIRS = sorted(pairs.PAIRS.values(), key=lambda p: (p.kind, p.id))
MISTAKES = [(p, m) for p in PAIRS for m in p.mistakes]
STEPS = 30  # optimizer and network runs; `verify` itself defaults to 100


def _id(pair, mistake=None):
    return f"{pair.kind}-{pair.id}" + (f"-{mistake.hint[:40]}" if mistake else "")


def agreement_cases():
    for pair in PAIRS:
        for dtype in ("float64", "float32"):
            for seed in range(5):
                yield pytest.param(pair, dtype, seed, marks=[pytest.mark.slow] if seed else [],
                                   id=f"{_id(pair)}-{dtype}-seed{seed}")


@pytest.mark.parametrize("pair, dtype, seed", list(agreement_cases()))
def test_scratch_agrees_with_pytorch(pair, dtype, seed):
    result = judge(pair, pair.scratch_object(scratch), pair.scratch, dtype=dtype, seed=seed, steps=STEPS)
    assert result.passed, format_result(result)


@pytest.mark.parametrize("pair, mistake", MISTAKES, ids=[_id(p, m) for p, m in MISTAKES])
def test_every_catalogued_mistake_is_caught_with_its_hint(pair, mistake):
    result = judge(pair, mistake.wrong, "catalogued", steps=STEPS)
    assert result.verdict == "differs", format_result(result)
    assert result.hint and mistake.hint in result.hint, format_result(result)
    if mistake.is_convention:
        assert mistake.flag_text() in result.hint
        with_flag = judge(pair, mistake.wrong, "catalogued", dict(mistake.flag), steps=STEPS)
        assert with_flag.passed, format_result(with_flag)


@pytest.mark.parametrize("pair, mistake", MISTAKES, ids=[_id(p, m) for p, m in MISTAKES])
def test_float32_never_names_the_wrong_mistake(pair, mistake):
    """In float32 a mistake as small as ε may be below resolution (then it agrees); when it is
    seen, the hint is its own."""
    result = judge(pair, mistake.wrong, "catalogued", dtype="float32", steps=STEPS)
    if result.verdict == "differs" and result.hint:
        assert mistake.hint in result.hint, format_result(result)
    assert result.verdict != "error", format_result(result)


@pytest.mark.parametrize("pair", PAIRS, ids=_id)
def test_declaration_is_complete(pair):
    assert pair.kind in pairs.KINDS and pair.interface and pair.names
    assert pair.scratch_object(scratch) is not None
    module = inspect.getmodule(pair.torch) or inspect.getmodule(inspect.unwrap(pair.torch))
    assert module.__name__.startswith(("torch_ref", "comparisons.pairs")), module
    assert pair.torch.__doc__, f"the torch side of {pair.id} needs a docstring"
    shown = pair.reference_object()  # what the guide lists beside scratch's object (see pairs.shows)
    # a torch_ref object, or PyTorch's own class where torch_ref builds nothing more (nn.ReLU)
    assert shown.__module__.startswith(("torch_ref", "comparisons.pairs", "torch.nn.")) and shown.__doc__, shown
    for m in pair.mistakes:
        assert m.wrong is not None and m.hint
        if m.flag:
            assert all(pair.hparam(k) is not None for k in m.flag)


def test_optimizer_names_and_defaults_are_one_table():
    from comparisons.pairs import optimizers

    for pair in pairs.of_kind("optimizer"):
        assert pair.defaults() == optimizers.DEFAULTS[pair.id][1]
    rmsprop = pairs.get("optimizer", "rmsprop")
    assert rmsprop.torch_kwargs({"lr": 0.1, "decay_rate": 0.9, "eps": 1e-7}) == {"lr": 0.1, "alpha": 0.9, "eps": 1e-7}
    assert pairs.get("optimizer", "adam").torch_kwargs({"beta1": 0.8, "beta2": 0.99})["betas"] == (0.8, 0.99)
