"""What the drivers of :mod:`~comparisons.pairs.nlp`, :mod:`~comparisons.pairs.sequence` and
:mod:`~comparisons.pairs.classifiers` read from the object under test, whichever calling style it
is written in: its parameters' gradients (a dict, the book's second-volume *list* in which a
shared weight appears once per sub-layer, or ``dW``-style attributes) and its training mode
(a forward argument, ``train()``/``eval()``, or a ``training``/``train_flg`` attribute)."""

from __future__ import annotations

import numpy as np
import torch

from ._base import Comparison, VerifyUsageError, accepted, as_array, call, parameters

MODE_ARGUMENTS = ("train_flg", "training", "train", "is_training")
MODE_ATTRIBUTES = ("training", "train_flg")


def set_mode(layer, training: bool) -> dict:
    """Put ``layer`` in training or evaluation mode; returns the keyword argument its forward takes
    for it (the book's ``train_flg``), or {} when a method or an attribute did it (the book's
    ``TimeDropout`` keeps ``train_flg`` as an attribute)."""
    params = parameters(layer.forward) or {}
    for name in MODE_ARGUMENTS:
        if name in params:
            return {name: training}
    if callable(getattr(layer, "train", None)) and callable(getattr(layer, "eval", None)):
        call(layer.train if training else layer.eval, "train()/eval()")
        return {}
    for name in MODE_ATTRIBUTES:
        if hasattr(layer, name):
            setattr(layer, name, training)
            return {}
    raise VerifyUsageError("the layer has no way to switch between training and evaluation: give forward a "
                           "train_flg argument, or train()/eval() methods, or a training (or train_flg) attribute")


def _distinct(arrays) -> list[list[int]]:
    """Indices of ``arrays`` grouped by identity, in order of first appearance."""
    groups: list[list[int]] = []
    for i, a in enumerate(arrays):
        for g in groups:
            if arrays[g[0]] is a:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def gradients(layer, keys) -> dict:
    """The gradients after backward under ``keys`` (the parameters in the order the constructor
    takes them): ``grads[key]``; or the list ``grads`` of the book's second volume, where a
    parameter shared by several sub-layers (``NegativeSamplingLoss``'s W, once per
    ``EmbeddingDot``) appears once per sub-layer, the gradient being the sum of its entries, as the
    book's ``remove_duplicate`` adds them; or attributes ``dW``, ``db``, …"""
    grads = getattr(layer, "grads", None)
    if isinstance(grads, dict) and all(k in grads for k in keys):
        return {k: as_array(grads[k], f"grads[{k!r}]") for k in keys}
    if isinstance(grads, (list, tuple)) and grads:
        params = getattr(layer, "params", None)
        same_length = isinstance(params, (list, tuple)) and len(params) == len(grads)
        groups = _distinct(params) if same_length else [[i] for i in range(len(grads))]
        if len(groups) == len(keys):
            return {k: sum(as_array(grads[i], f"grads[{i}]") for i in g) for k, g in zip(keys, groups)}
    out = {}
    for k in keys:
        found = next((getattr(layer, a) for a in (f"d{k}", f"d{k.lower()}", f"grad_{k}")
                      if getattr(layer, a, None) is not None), None)
        if found is None:
            raise VerifyUsageError(f"after backward, the layer must hold the gradient of {k} in grads[{k!r}], in the "
                                   f"list grads (in the order {', '.join(keys)}) or in d{k}")
        out[k] = as_array(found, f"d{k}")
    return out


def value_and_gradient(result, what: str):
    """A result ``(value, gradient)`` (CS231n's form) as two arrays; ``(value, None)`` for a value alone."""
    if isinstance(result, tuple) and len(result) == 2:
        return as_array(result[0], what), as_array(result[1], "the gradient")
    return as_array(result, what), None


def seeded(seed: int):
    """A NumPy generator for the object under test, and NumPy's global one seeded alike (the book's
    code draws from ``np.random``): the same seed gives the same numbers."""
    np.random.seed(seed)
    return np.random.default_rng(seed)


def drive_value_and_gradient(ctx, pair, fn, hparams, run):
    """A function ``fn(a, *rest) -> value`` or CS231n's ``(value, da)`` (``svm_loss(x, y)``,
    ``svm_loss_naive(W, X, y, reg)``, ``temporal_softmax_loss(x, y, mask)``) on each of the pair's
    input tuples, against ``pair.torch`` on the same arguments (float arrays as tensors, integer
    arrays as labels, numbers as they are) and the autograd gradient with respect to the first.
    ``pair.options['gradient']`` names that gradient in the checks (default dx);
    ``pair.options['scales'](*args)`` gives the size of the terms the loss and the gradient are summed
    from (the ``scale`` of :func:`comparisons.checks.close`), where they cancel."""
    kwargs = accepted(fn, pair, hparams)
    name = pair.options.get("gradient", "dx")
    out = []
    for label, args in pair.inputs(ctx).items():
        shapes = ", ".join(str(np.shape(a)) if np.ndim(a) else repr(a) for a in args)
        copies = (a.copy() if isinstance(a, np.ndarray) else a for a in args)
        value, grad = value_and_gradient(call(fn, f"calling it on {shapes}", *copies, **kwargs), "the loss")
        first = ctx.tensor(args[0], requires_grad=True)
        rest = [ctx.labels(a) if np.asarray(a).dtype.kind in "iu" else ctx.tensor(a) if np.ndim(a) else a
                for a in args[1:]]
        value_t = pair.torch(first, *rest, **pair.torch_kwargs(hparams))
        (grad_t,) = torch.autograd.grad(value_t, first)
        loss_scale, grad_scale = pair.options["scales"](*args) if "scales" in pair.options else (None, None)
        out.append(Comparison(f"loss, {label}", value, value_t.detach(), scale=loss_scale))
        if grad is not None:
            out.append(Comparison(f"{name}, {label}", grad, grad_t, scale=grad_scale))
    return out


# --- optimizers: update(params, grads) on dicts or on lists ------------------------------------------


class ListOptimizer:
    """The book's second-volume optimizer (``update(params, grads)`` indexing lists: ``params[i] -=
    …``) seen as one that takes dicts: the same arrays passed as lists in one fixed order, and an
    entry the code rebinds (``params[i] = params[i] - …``) read back."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def update(self, params, grads):
        keys = list(params)
        as_list = [params[k] for k in keys]
        call(self.optimizer.update, "update(params, grads) on lists", as_list, [grads[k] for k in keys])
        for k, value in zip(keys, as_list):
            params[k] = value


def update_style(make_optimizer, dtype, run):
    """How the optimizer made by ``make_optimizer()`` takes ``update(params, grads)``: a function
    that wraps an optimizer so that it takes dicts. Found by one trial step on a fresh optimizer with
    dicts, and when that fails, one with lists (the book's second volume); noted when lists."""
    from ._base import TargetError

    def trial(as_lists):
        params = {"W": np.ones((2, 3), dtype=dtype), "b": np.full(3, 0.5, dtype=dtype)}
        grads = {k: np.full_like(v, 0.1) for k, v in params.items()}
        opt = make_optimizer()
        try:
            if as_lists:
                call(opt.update, "update", list(params.values()), list(grads.values()))
            else:
                call(opt.update, "update", params, grads)
        except TargetError:
            return False
        return True

    if trial(False) or not trial(True):
        return lambda opt: opt
    run.notes.append("update(params, grads) takes lists (the book's second volume): given the parameters and their "
                     "gradients as lists in one fixed order")
    return ListOptimizer


# --- networks: params and grads as lists in layer order ----------------------------------------------


def list_keys(arrays) -> list[str]:
    """Names for a network's parameter list in layer order: W1, b1, W2, b2, … (a 1-D array after a
    weight is that layer's bias)."""
    keys, layer = [], 0
    for a in arrays:
        if np.ndim(a) >= 2 or not keys or not keys[-1].startswith("W"):
            layer += 1
            keys.append(f"W{layer}")
        else:
            keys.append(f"b{layer}")
    return keys


class ListNetwork:
    """The book's second-volume network (``params``/``grads`` lists in layer order, ``forward(x, t) ->
    loss``, then ``backward()`` fills ``grads``) seen as the first volume's: ``params`` a dict of the
    same arrays (W1, b1, W2, b2, …), ``loss(x, t)`` and ``gradient(x, t)``."""

    def __init__(self, net):
        self.net = net
        self.keys = list_keys(net.params)
        self.params = dict(zip(self.keys, net.params))

    def loss(self, x, t):
        return call(self.net.forward, "forward(x, t)", x, t)

    def gradient(self, x, t):
        call(self.net.forward, "forward(x, t)", x, t)
        call(self.net.backward, "backward()")
        grads = self.net.grads
        if not isinstance(grads, (list, tuple)) or len(grads) != len(self.keys):
            raise VerifyUsageError("after backward(), the network's grads must be a list beside params, one "
                                   "gradient per parameter")
        return {k: np.array(as_array(g, f"grads[{i}]")) for i, (k, g) in enumerate(zip(self.keys, grads))}


def dict_style(net, run):
    """``net``, or a :class:`ListNetwork` around it when its ``params`` is a list (noted)."""
    params = getattr(net, "params", None)
    if isinstance(params, (list, tuple)) and params and callable(getattr(net, "forward", None)) \
            and callable(getattr(net, "backward", None)):
        run.notes.append("params and grads are lists in layer order (the book's second volume): read as W1, b1, "
                         "W2, b2, …; the loss is forward(x, t), the gradients what backward() leaves in grads")
        return ListNetwork(net)
    return net
