"""Loss functions (kind ``loss``): ``f(y, t) -> float`` (or CS231n's ``(loss, dx)``) against
the ``torch.nn`` losses of ``torch_ref.losses``."""

from __future__ import annotations

import numpy as np
import torch

import torch_ref.losses as tloss

from ._base import Comparison, Hparam, Mistake, NONFINITE, Pair, TargetError, accepted, as_array, call, nonfinite, shows
from ._running import _labels_of


def drive_loss(ctx, pair, fn, hparams, run):
    """``fn(y, t)`` against the torch loss; a result (loss, dx) (CS231n's form) has dx compared too.
    Cases marked optional (one-hot targets, one sample) are skipped, with a note, when the code
    under test does not take that form."""
    out = []
    kwargs = accepted(fn, pair, hparams)
    torch_h = pair.torch_kwargs(hparams)
    for label, (x, t, optional) in pair.inputs(ctx).items():
        try:
            result = call(fn, f"calling it on y{x.shape}, t{np.shape(t)}", x.copy(), np.array(t, copy=True), **kwargs)
        except TargetError as exc:
            if optional:
                run.notes.append(f"skipped '{label}': {exc}")
                continue
            raise
        xt = ctx.tensor(x, requires_grad=True)
        value_t = pair.torch(ctx, xt, t, **torch_h)
        if isinstance(result, tuple) and len(result) == 2:
            value, dx = result
            exact = pair.torch(ctx, xt, t, **{**torch_h, "delta": 0.0}) if "delta" in torch_h else value_t
            (grad,) = torch.autograd.grad(exact, xt)
            out.append(Comparison(f"value, {label}", as_array(value, "the loss", ()), value_t.detach()))
            out.append(Comparison(f"dx, {label}", as_array(dx, "dx", x.shape), grad))
        else:
            out.append(Comparison(f"value, {label}", as_array(result, "its result", ()), value_t.detach()))
    return out

DELTA = Hparam("delta", 0.0, "delta", aliases=("eps",), bounds="[0, inf)")


def _probs(logits):
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def classification_inputs(ctx, probabilities: bool, one_sample: bool = True):
    """Batches 1×10, 8×5, 32×3 with labels and with one-hot targets; one sample as a vector
    (the book reshapes it to a batch of one); for logits, huge values that overflow a naive exp;
    for probabilities, the study notes' example with 0.6 at the answer. (x, t, optional)."""
    cases = {}
    for n, k in ((1, 10), (8, 5), (32, 3)):
        logits = ctx.rng.normal(0, 2, (n, k))
        labels = ctx.rng.integers(0, k, n)
        x = ctx.array(_probs(logits) if probabilities else logits)
        cases[f"batch {n}×{k}, labels"] = (x, labels, False)
        cases[f"batch {n}×{k}, one-hot"] = (x, ctx.array(np.eye(k)[labels]), True)
    one = ctx.rng.normal(0, 2, 10)
    if one_sample:
        cases["one sample (10,), one-hot"] = (ctx.array(_probs(one) if probabilities else one), ctx.array(np.eye(10)[3]), True)
    if probabilities:
        cases["seed example (0.6 at the answer)"] = (ctx.array([[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]]),
                                                     np.array([2]), False)
    else:
        cases["huge logits (overflow)"] = (ctx.array(ctx.rng.normal(0, 1, (4, 3)) * 1000), ctx.rng.integers(0, 3, 4), False)
    if probabilities:  # log 0 = −inf: the loss is inf, as PyTorch's NLL of log(y)
        cases[f"{NONFINITE}: probability 0 at the answer"] = (ctx.array([[0.0, 1.0, 0.0], [0.5, 0.3, 0.2]]),
                                                             np.array([0, 1]), False)
    else:  # a −inf logit off the answer is probability 0; at the answer, loss inf; a +inf or NaN logit: NaN
        cases[f"{NONFINITE}: logits with +inf, −inf, NaN"] = (
            ctx.array([[-np.inf, 1.0, 0.0], [1.0, -np.inf, 0.0], [np.inf, 1.0, 0.0], [np.nan, 1.0, 0.0], [0.5, -0.5, 1.0]]),
            np.array([1, 1, 0, 2, 2]), False)
    return cases


def regression_inputs(ctx, binary: bool = False):
    cases = {}
    for n, k in ((1, 10), (8, 5), (32, 3)):
        if binary:
            cases[f"batch {n}×{k}"] = (ctx.array(ctx.rng.uniform(0.01, 0.99, (n, k))),
                                       ctx.array(ctx.rng.integers(0, 2, (n, k))), False)
        else:
            cases[f"batch {n}×{k}"] = (ctx.array(ctx.rng.normal(size=(n, k))), ctx.array(ctx.rng.normal(size=(n, k))), False)
    if not binary:  # NaN in, NaN out; an infinite difference, inf (inf − inf: NaN)
        y, t = nonfinite(ctx, (4, 5), scale=1.0), ctx.array(ctx.rng.normal(size=(4, 5)))
        t[-1, -1] = np.inf
        cases[f"{NONFINITE} in y and t"] = (y, t, False)
        finite = y.copy()
        finite[~np.isfinite(finite)] = 1.0
        finite[0, 1] = np.inf
        cases[f"{NONFINITE}: one +inf in y"] = (finite, ctx.array(ctx.rng.normal(size=(4, 5))), False)
    return cases


def _batch(ctx, y, t):
    """y as a batch (1, K) when one sample is given, t as labels."""
    labels = _labels_of(t)
    if y.ndim == 1:
        return y.reshape(1, -1), ctx.labels(np.reshape(labels, 1))
    return y, ctx.labels(labels)


def torch_cross_entropy(ctx, y, t, delta=0.0):
    """``torch_ref.losses.cross_entropy_error`` (NLLLoss on log(y + δ)) on a batch."""
    yb, labels = _batch(ctx, y, t)
    return tloss.cross_entropy_error(yb, labels, delta)


def torch_softmax_cross_entropy(ctx, x, t, delta=0.0):
    """``torch_ref.losses.softmax_cross_entropy`` (CrossEntropyLoss, or the book's δ form)."""
    xb, labels = _batch(ctx, x, t)
    return tloss.softmax_cross_entropy(xb, labels, delta)


shows(torch_cross_entropy, tloss.cross_entropy_error)
shows(torch_softmax_cross_entropy, tloss.softmax_cross_entropy)


def _torch_pointwise(fn):
    def loss(ctx, y, t):
        return fn(y, ctx.tensor(t))
    loss.__doc__ = f"torch_ref.losses.{fn.__name__}(y, t)"
    return shows(loss, fn)


def _labels_and_rows(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    labels = t.argmax(-1).reshape(-1) if t.shape[-1:] == y.shape[-1:] and t.ndim >= 1 and t.size == y.size else t.reshape(-1)
    return y, labels


def _ce_sum(y, t):
    y, labels = _labels_and_rows(y, t)
    return -np.sum(np.log(y[np.arange(len(y)), labels] + 1e-7))


def _ce_book(y, t):
    y, labels = _labels_and_rows(y, t)
    return -np.mean(np.log(y[np.arange(len(y)), labels] + 1e-7))


def _softmax_ce_book(x, t):
    return _ce_book(_probs(np.atleast_2d(x)), t)


def _softmax_ce_naive(x, t):
    x = np.atleast_2d(x)
    e = np.exp(x)
    y, labels = _labels_and_rows(e / e.sum(-1, keepdims=True), t)
    return -np.mean(np.log(y[np.arange(len(y)), labels]))


PAIRS = [
    Pair("cross-entropy", "loss", "losses.cross_entropy_error", torch_cross_entropy,
         "a function f(y, t) -> float: probabilities y (N, K) or (K,), t as labels (N,) or one-hot; mean over the batch",
         drive_loss, (DELTA,), lambda ctx: classification_inputs(ctx, True),
         (Mistake("sums over the batch instead of taking the mean", _ce_sum),
          Mistake("the book's δ = 1e-7 inside the log, log(y + δ): PyTorch has no δ", _ce_book, flag={"delta": 1e-7})),
         ("cross_entropy_error", "cross_entropy", "cross_entropy_loss")),
    Pair("softmax-cross-entropy", "loss", "losses.softmax_cross_entropy", torch_softmax_cross_entropy,
         "a function f(x, t) -> float (or CS231n's (loss, dx)): scores (logits) x (N, K), t as labels or one-hot; mean",
         drive_loss, (DELTA,), lambda ctx: classification_inputs(ctx, False),
         (Mistake("the book's δ = 1e-7 inside the log of softmax, log(softmax(x) + δ): PyTorch has no δ",
                  _softmax_ce_book, flag={"delta": 1e-7}),
          Mistake("softmax without the max shift: exp overflows to nan for large scores; subtract max(x) first",
                  _softmax_ce_naive)),
         ("softmax_loss", "softmax_cross_entropy", "softmax_cross_entropy_loss", "softmax_with_loss")),
    Pair("mse", "loss", "losses.mean_squared_error", _torch_pointwise(tloss.mean_squared_error),
         "a function f(y, t) -> float: y and t of one shape; mean over every element", drive_loss, (),
         regression_inputs,
         (Mistake("this is ½·Σ(y − t)², the sum of squares (the book names it mean_squared_error): it agrees "
                  "with --against sse", lambda y, t: 0.5 * np.sum((y - t) ** 2)),
          Mistake("adds the ½ of the sum of squares (½·mean)", lambda y, t: 0.5 * np.mean((y - t) ** 2)),
          Mistake("sums instead of taking the mean", lambda y, t: np.sum((y - t) ** 2))),
         ("mean_squared_error", "mse", "mse_loss")),
    Pair("sse", "loss", "losses.sum_squared_error", _torch_pointwise(tloss.sum_squared_error),
         "a function f(y, t) -> float: y and t of one shape; ½·Σ(y − t)²", drive_loss, (), regression_inputs,
         (Mistake("leaves out the ½", lambda y, t: np.sum((y - t) ** 2)),), ("sum_squared_error", "sse")),
    Pair("mae", "loss", "losses.mean_absolute_error", _torch_pointwise(tloss.mean_absolute_error),
         "a function f(y, t) -> float: y and t of one shape; mean |y − t|", drive_loss, (), regression_inputs,
         (), ("mean_absolute_error", "mae")),
    Pair("binary-cross-entropy", "loss", "losses.binary_cross_entropy", _torch_pointwise(tloss.binary_cross_entropy),
         "a function f(y, t) -> float: probabilities y and 0/1 targets t of one shape; mean", drive_loss, (),
         lambda ctx: regression_inputs(ctx, binary=True), (), ("binary_cross_entropy", "bce")),
]
