"""One declaration per compared pair: find any pair here in one step.

    activations.py  functions: sigmoid, tanh, relu, …, softmax, and their derivatives (relu-grad, …)
    gradients.py    numerical-gradient
    losses.py       cross-entropy, softmax-cross-entropy, mse, sse, mae, binary-cross-entropy
    layers.py       linear (the book's Affine), relu, sigmoid, …, gelu, softmax-with-loss
    optimizers.py   sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw (one table of names and defaults)
    schedules.py    step-decay, exponential-decay, inverse-time-decay
    init.py         xavier-normal/-uniform, he-normal/-uniform, lecun-normal/-uniform, fans (initializers)
    networks.py     mlp (the book's TwoLayerNet / MultiLayerNet, CS231n's nets)
    convolution.py  conv2d (the book's Convolution), max-pool (its Pooling), avg-pool, im2col, col2im,
                    simple-convnet (its SimpleConvNet)
    recurrent.py    rnn-step, rnn, lstm-step, lstm, gru-step, clip-grad-norm
    functional.py   CS231n's *_forward / *_backward pairs as layers
    nlp.py          matmul, sigmoid-with-loss, embedding-dot (the book's second volume, word2vec), cos-similarity,
                    one-hot
    sampling.py     negative-sampling-loss, unigram-sampler (word2vec's negative sampling)
    sequence.py     embedding, bilstm, time-dropout, time-softmax-with-loss (label −1 ignored), temporal-softmax-loss (CS231n),
                    time-affine
    composites.py   linear-relu, conv-relu, conv-relu-pool (CS231n's layer_utils sandwiches)
    language_models.py  rnnlm (the book's SimpleRnnlm / Rnnlm)
    normalization.py  spatial-batchnorm (CS231n's spatial batch norm), groupnorm
    classifiers.py  svm-loss (CS231n's hinge), linear-svm-loss and linear-softmax-loss (assignment 1's (W, X, y, reg))
    train_eval.py   dropout, batchnorm: layers with a training and an evaluation mode
    attention.py    attention (scaled dot-product, a function), the book's chapter 8 weight-sum,
                    attention-weight, attention, time-attention
    mha.py          mha (multi-head attention: GPT-2's nested dicts, and a class)
    transformer.py  layer-norm (a function and a layer), positional-encoding, transformer-block (a function and a
                    class)
    gpt.py          gpt2 (GPT-2's forward pass of nested dicts)
    _base.py        what a declaration is (Pair, Hparam, Mistake), and what every driver shares

Each module holds the whole of its pairs: the declarations, their inputs, the driver that runs the
implementation under test beside the PyTorch reference, and the catalogue of mistakes. A
:class:`Pair` holds the id and kind, the ``scratch`` object (a dotted name read through
``ctx.impl``), the ``torch_ref`` builder, the hyperparameters with their PyTorch names, the
inputs, and the catalogue of known mistakes and conventions with their hints. ``verify``, the
concepts, the tests and the guide read them, all through :func:`check` (or :func:`compare` and
:func:`record`): a new pair is one declaration plus one ``torch_ref`` builder.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import (activations, attention, classifiers, composites, convolution, gpt, gradients, init, language_models, layers,
               losses, mha, networks, nlp, normalization, optimizers, recurrent, sampling, schedules, sequence,
               train_eval, transformer)
from .. import seeding
from ._base import Comparison, Hparam, Mistake, NONFINITE, Pair, TargetError, VerifyUsageError
from ._running import DriveOptions, SecondCall

KINDS = ("function", "loss", "layer", "optimizer", "schedule", "network", "initializer")
KIND_ALIASES = {"activation": "function", "init": "initializer", "initialiser": "initializer"}

PAIRS: dict[tuple[str, str], Pair] = {
    (p.kind, p.id): p
    for module in (activations, gradients, losses, layers, train_eval, optimizers, schedules, networks, init, convolution,
                   recurrent, nlp, sampling, sequence, classifiers, normalization, language_models, composites, attention, mha,
                   transformer, gpt)
    for p in module.PAIRS
}


def kind_of(kind: str) -> str:
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise VerifyUsageError(f"KIND must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def get(kind: str, name: str) -> Pair:
    """The pair ``name`` of ``kind`` (``relu`` is the function under ``function``, the layer under
    ``layer``); the old ``<name>-layer`` ids are accepted."""
    kind = kind_of(kind)
    key = name.removesuffix("-layer") if kind == "layer" else name
    if (kind, key) in PAIRS:
        return PAIRS[(kind, key)]
    elsewhere = sorted(k for k, i in PAIRS if i == key)
    known = ", ".join(i for k, i in PAIRS if k == kind)
    where = f" ({key!r} is a {' and a '.join(elsewhere)} reference)" if elsewhere else ""
    raise VerifyUsageError(f"unknown {kind} reference {name!r}{where}; the {kind} references are: {known}")


def of_kind(kind: str) -> list[Pair]:
    return [p for (k, _), p in PAIRS.items() if k == kind]


def compare(ctx, pair: Pair, obj, hparams: dict | None = None, options: DriveOptions | None = None) -> list:
    """Run ``pair``'s driver on ``obj`` (the implementation under test: ``scratch``'s object, a
    user's, or a catalogued mistake) beside the PyTorch reference: its :class:`Comparison` list,
    nothing recorded. ``hparams`` (scratch's names) over the pair's defaults.

    A layer is called twice: the driver runs a second time over the very objects it made (the
    same weights), on other inputs of the same kind and shape (drawn by ``pair.inputs`` or
    :meth:`DriveOptions.draw` from a generator of their own), backward after each forward. What
    the second call gives is compared with a fresh reference too (labels ``… (second call)``): a
    result that depends on an earlier call (a mask or a cache kept, gradients accumulated) differs
    there. Every other draw, and ``ctx``'s generator afterwards, are what one call leaves."""
    run = options or DriveOptions()
    hparams = {**pair.defaults(), **(hparams or {})}
    again = pair.kind == "layer" and pair.options.get("again", True)
    start = ctx.rng.bit_generator.state
    run.made = [] if again else None
    try:
        first = pair.drive(ctx, pair, obj, hparams, run)
    except TargetError as exc:
        pair = _finite_only(pair)
        if pair is None:
            raise
        ctx.rng.bit_generator.state = start
        run.made = [] if again else None
        run.notes.append(f"the cases with NaN and ±inf were left out: {exc}")
        first = pair.drive(ctx, pair, obj, hparams, run)
    if not again:
        run.made = None
        return _marked(first)
    end = ctx.rng.bit_generator.state
    other = ctx.detached()
    other.rng = seeding.generator(ctx.seed, f"{ctx.concept}: {pair.kind} {pair.id}, second call")
    ctx.rng.bit_generator.state = start
    run.again, run.made = SecondCall(run.made, other), None
    second_pair = pair if pair.inputs is None else dataclasses.replace(
        pair, inputs=lambda c, inputs=pair.inputs: (inputs(c), inputs(other))[1])
    try:
        second = second_pair.drive(ctx, second_pair, obj, hparams, run)
    finally:
        run.again = None
        ctx.rng.bit_generator.state = end
    return _marked(first + [dataclasses.replace(c, label=f"{c.label} (second call)", again=True) for c in second])


def _finite_only(pair: Pair) -> Pair | None:
    """``pair`` without its cases of NaN and ±inf (None if it has none): code that raises on them is
    judged on the others, PyTorch's value there being no rule that correct code must follow."""
    if pair.inputs is None:
        return None

    def inputs(ctx, every=pair.inputs):
        return {label: case for label, case in every(ctx).items() if NONFINITE not in str(label)}

    return dataclasses.replace(pair, inputs=inputs)


def _marked(comparisons) -> list:
    """The comparisons, those of cases with NaN and ±inf among their inputs marked ``nonfinite``:
    recorded as every check (the project's own code must give what PyTorch gives there), and in
    ``verify`` shown but not counted in a verdict (correct code may treat NaN its own way)."""
    return [dataclasses.replace(c, nonfinite=True) if NONFINITE in c.label else c for c in comparisons]


def record(ctx, comparisons, prefix: str = "") -> list:
    """Record ``comparisons`` as checks of ``ctx`` (names prefixed with ``prefix``): each at its
    kind's tolerance; a lockstep comparison (one row per step) through the lockstep engine."""
    from ..lockstep import Lockstep

    start = len(ctx.records)
    for c in comparisons:
        label = f"{prefix}{c.label}"
        if c.kind == "lockstep":
            lock = Lockstep(ctx, label)
            actual, expected = np.asarray(c.actual, dtype=float), np.asarray(c.expected, dtype=float)
            if actual.shape[:1] != expected.shape[:1]:
                ctx.compare(f"{label}: lockstep {c.quantity}", actual, expected)
                continue
            for k, (a, e) in enumerate(zip(actual, expected)):
                lock.compare(k, c.quantity, a, e)
            lock.record(c.note)
        elif c.kind == "statistical":
            ctx.statistical(label, float(c.actual), float(c.expected), c.tol, note=c.note)
        else:
            ctx.compare(label, c.actual, c.expected, kind=c.kind, note=c.note, scale=c.scale)
    return ctx.records[start:]


def check(ctx, pair: Pair, obj, hparams: dict | None = None, *, prefix: str = "",
          options: DriveOptions | None = None) -> list:
    """:func:`compare` and :func:`record`: the one way a pair is checked, by ``verify`` and by the
    concepts alike. Returns the comparisons (a concept may draw their numbers)."""
    comparisons = compare(ctx, pair, obj, hparams, options)
    record(ctx, comparisons, prefix)
    ctx.checked_pairs.add((pair.kind, pair.id))
    return comparisons


__all__ = ["KINDS", "PAIRS", "Comparison", "DriveOptions", "Hparam", "Mistake", "Pair", "TargetError", "VerifyUsageError",
           "check", "compare", "get", "of_kind", "record"]
