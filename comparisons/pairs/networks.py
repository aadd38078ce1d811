"""Networks (kind ``network``): the book's ``TwoLayerNet`` / ``MultiLayerNet`` (``params`` with W
as (in, out), ``gradient(x, t)`` and ``loss(x, t)``) or CS231n's (``loss(X, y) -> (loss, grads)``),
against autograd on ``torch_ref.networks.mlp`` loaded with the same parameters, then ≥ 100 SGD
steps that update ``params`` in place as the book's loop does.

When the gradients differ, the other hidden activations are tried on the PyTorch side
(``reference_only``): a net that hard-codes sigmoid, or whose ``activation='relu'`` builds something
else, is named with the ``--hparam activation=…`` that makes it agree."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import torch

import scratch.layers as SL
import scratch.networks as SN
import torch_ref.losses as tloss
import torch_ref.networks as tnet

from .. import bridge
from ..lockstep import Side
from ..sides import Architecture, Setup, TorchNet
from ._base import (Comparison, Hparam, Mistake, Pair, TargetError, VerifyUsageError, as_array, call, construct,
                    parameters)
from ._running import DriveOptions, trained
from ._styles import dict_style
from .layers import LinearDbNotSummed, LinearDWSign, SoftmaxWithLossBookDelta, SoftmaxWithLossNotAveraged

NET_SIZES = (12, 10, 8, 4)  # input, hidden…, output: two hidden layers unless the constructor asks for one


NET_DATA = (60, 20)  # samples, batch size


def _net_given(params0: dict) -> dict:
    n_in, *hidden, n_out = NET_SIZES
    return {"params": {k: v.copy() for k, v in params0.items()}, "input_size": n_in, "input_dim": n_in,
            "hidden_size": hidden[0], "hidden_dim": hidden[0], "hidden_size_list": list(hidden),
            "hidden_dims": list(hidden), "output_size": n_out, "num_classes": n_out, "output_dim": n_out,
            "weight_init_std": 0.01, "weight_scale": 0.01}


def _net_params(ctx, net, pair):
    params = getattr(net, "params", None)
    if not isinstance(params, dict) or "W1" not in params:
        raise VerifyUsageError(f"network {pair.id} expects {pair.interface}; the network has no params dict with W1, b1, …")
    depth = sum(1 for k in params if k.startswith("W") and k[1:].isdigit())
    return [params["W1"].shape[0]] + [params[f"W{i}"].shape[1] for i in range(1, depth + 1)]


def _net_gradient(net, x, t):
    """(loss, grads) from the book's ``loss`` + ``gradient`` or CS231n's ``loss(X, y) -> (loss, grads)``."""
    if callable(getattr(net, "gradient", None)):
        loss = call(net.loss, "loss(x, t)", x, t)
        grads = call(net.gradient, "gradient(x, t)", x, t)
        return float(as_array(loss, "the loss")), grads
    result = call(net.loss, "loss(X, y)", x, t)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise VerifyUsageError("a network needs gradient(x, t) -> grads and loss(x, t), or loss(X, y) -> (loss, grads)")
    return float(as_array(result[0], "the loss")), result[1]


def _start(ctx, sizes, norm):
    """Shared initial parameters W1, b1, … (and gamma, beta of each hidden layer with a normalization)."""
    rng, params0 = ctx.rng, {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params0[f"W{i}"] = ctx.array(rng.normal(0, np.sqrt(2 / a), (a, b)))
        params0[f"b{i}"] = ctx.array(rng.normal(0, 0.1, b))
    if norm != "none":
        for i, n in enumerate(sizes[1:-1], start=1):
            params0[f"gamma{i}"], params0[f"beta{i}"] = ctx.array(rng.uniform(0.5, 1.5, n)), ctx.array(rng.normal(0, 0.3, n))
    return params0


def drive_network(ctx, pair, cls, hparams, run):
    """The user's network constructed with what its parameter names ask for; its parameters set to
    shared initial values in place; then loss and every gradient against autograd on a torch model
    of the same parameters, ≥ 100 SGD steps in lockstep, and (float64) free-running. A network whose
    constructor takes ``normalization`` (CS231n's FullyConnectedNet) is judged with each of its options:
    none, then batchnorm and layernorm (10 steps each)."""
    out = _network(ctx, pair, cls, hparams, run)
    note = _dropout_meaning(parameters(cls) or {})
    if note:
        run.notes.append(note)
    norm = hparams.get("normalization", "none")
    if norm == "none" and "normalization" not in run.explicit and "normalization" in (parameters(cls) or {}):
        for other in ("batchnorm", "layernorm"):
            sub = DriveOptions(steps=min(run.steps, 10), explicit=run.explicit, reference=run.reference)
            out += [replace(c, label=f"{other}: {c.label}") for c in _network(ctx, pair, cls, {**hparams, "normalization": other}, sub)]
        run.notes.append("normalization: judged with none, then batchnorm and layernorm (10 SGD steps each; batch norm "
                         "in training, on the batch's statistics)")
    return out


def _dropout_meaning(params) -> str | None:
    """What a network's dropout argument means, read from its name and default: CS231n's
    ``dropout_keep_ratio=1`` (2020 on) and ``dropout=1`` (2018–2019) are the probability to keep a unit,
    ``dropout=0`` (2016–2017) the probability to drop one (PyTorch's p)."""
    for name in ("dropout_keep_ratio", "keep_prob", "keep_ratio", "dropout"):
        p = params.get(name)
        if p is None or not isinstance(p.default, (int, float)):
            continue
        keeps = name != "dropout" or p.default == 1
        meaning = ("the probability to keep a unit (CS231n from 2018 on; PyTorch's p is 1 − it)" if keeps else
                   "the probability to drop a unit (CS231n 2016–2017; PyTorch's p)")
        return (f"{name} (default {p.default}) is {meaning}: judged at its default, without dropout (a training "
                "step with dropout draws its own masks); its layers are judged on their own")
    return None


def _network(ctx, pair, cls, hparams, run):
    activation = {**hparams, **run.reference}.get("activation", "relu")  # run.reference: an activation the hint tries
    norm = hparams.get("normalization", "none")
    params0 = _start(ctx, NET_SIZES, norm)
    given = {**_net_given(params0), "dtype": ctx.np_dtype}
    net = dict_style(construct(cls, pair, hparams, given, run), run)
    sizes = _net_params(ctx, net, pair)
    if sizes != list(NET_SIZES):  # e.g. a two-layer net: draw the shared start for its shapes
        params0 = _start(ctx, sizes, norm)
    n = NET_DATA[0]
    x, labels = ctx.array(ctx.rng.normal(size=(n, sizes[0]))), ctx.rng.integers(0, sizes[-1], n)

    def another():  # its own copies of the arrays: a net that keeps the dict it is given must not share them
        return dict_style(construct(cls, pair, hparams, {**given, **_net_given(params0)}, DriveOptions()), DriveOptions())

    return network_checks(ctx, pair, [net, another], params0, x, labels,
                          lambda: tnet.mlp(sizes, activation, batchnorm=norm == "batchnorm", layernorm=norm == "layernorm"),
                          hparams, run)


def network_checks(ctx, pair, nets, params0, x, labels, make_model, hparams, run):
    """What every network is judged by, given ``nets`` = [the user's network, a function that
    makes another], the shared ``params0`` (set into ``params`` in place), the data and
    ``make_model()`` (a torch model of the same parameters, filled by ``bridge.load_mlp``): the loss
    and every gradient at the start against autograd, then ``run.steps`` SGD steps through the one
    trainer, in lockstep and (float64) free-running."""
    net, make_another = nets
    lam, delta, lr = float(hparams.get("weight_decay_lambda", 0.0)), float(hparams.get("delta", 0.0)), float(hparams.get("lr", 0.1))
    rng = ctx.rng
    if set(net.params) != set(params0):
        raise VerifyUsageError(f"network {pair.id}: params must hold {sorted(params0)} only; got {sorted(net.params)}")
    for k, v in params0.items():
        if np.shape(net.params[k]) != v.shape:
            raise VerifyUsageError(f"network {pair.id}: params[{k!r}] has shape {np.shape(net.params[k])}, the "
                                   f"hyperparameters give {v.shape}")
    n, batch = NET_DATA
    n_classes = int(params0[f"b{sum(k.startswith('W') for k in params0)}"].shape[0])
    order = np.concatenate([rng.permutation(n) for _ in range(run.steps * batch // n + 1)])
    batches = [order[i * batch:(i + 1) * batch] for i in range(run.steps)]
    if delta:
        run.notes.append("the gradients are compared with autograd of the loss without δ: the book's backward "
                         "ignores the δ of its own forward")

    def set_params(values):
        for k, v in values.items():
            net.params[k][...] = v

    def torch_model():
        model = make_model().to(dtype=ctx.torch_dtype, device=ctx.device)
        return bridge.load_mlp(model, params0)

    def torch_loss(model, idx, with_delta):
        scores = model(ctx.tensor(x[idx]))
        loss = tloss.softmax_cross_entropy(scores, ctx.labels(labels[idx]), delta=delta if with_delta else 0.0)
        return loss + tnet.l2_penalty(model, lam) if lam else loss

    out = []
    set_params(params0)
    targets = labels
    try:
        loss0, grads0 = _net_gradient(net, x[batches[0]], labels[batches[0]])
    except TargetError as with_labels:  # e.g. the book's ch04 net: dy = (y − t)/N needs t one-hot
        targets = ctx.array(np.eye(n_classes)[labels])
        try:
            loss0, grads0 = _net_gradient(net, x[batches[0]], targets[batches[0]])
        except TargetError:
            raise with_labels from None
        run.notes.append(f"with class labels t (N,) it failed ({with_labels}); it was given one-hot targets "
                         f"t (N, {n_classes})")
    model = torch_model()
    with torch.no_grad():
        out.append(Comparison("loss at the start", np.array(loss0), torch_loss(model, batches[0], True)))
    torch_loss(model, batches[0], False).backward()
    grads_t = bridge.mlp_arrays(model, grad=True)
    if not isinstance(grads0, dict):
        raise VerifyUsageError("the network's gradients must be a dict with the keys of params")
    for k in params0:
        if k not in grads0:
            raise VerifyUsageError(f"the network's gradients have no {k!r}; they must have the keys of params")
        out.append(Comparison(f"gradient {k} at the start", as_array(grads0[k], k), grads_t[k]))

    keys = list(params0)

    def make_net():  # the book's loop trains the user's network in place: another one for the free run
        made.append(net if not made else make_another())
        return made[-1]

    made = []
    numpy_side = UserNetwork(make_net, params0, keys, x, targets, lr)
    torch_side = ReferenceNetwork(ctx, params0, (x, labels), make_model, lr, delta, lam)
    return out + trained(ctx, f"SGD, {run.steps} steps", numpy_side, torch_side, batches)


class UserNetwork(Side):
    """A user's network (the book's ``loss`` + ``gradient``, or CS231n's ``loss(X, y) -> (loss,
    grads)``) trained by the book's loop: ``params[k] -= lr·grads[k]`` in place."""

    def __init__(self, make_net, params0, keys, x, targets, lr):
        self.make_net, self.params0, self.keys, self.x, self.targets, self.lr_ = make_net, params0, keys, x, targets, lr
        self.net = make_net()
        self.load(params0)

    def state(self) -> dict:
        return {k: np.array(self.net.params[k]) for k in self.keys}

    def load(self, state: dict) -> None:
        for k, v in state.items():
            self.net.params[k][...] = v

    def loss_and_gradients(self, idx, draws):
        loss, grads = _net_gradient(self.net, self.x[idx], self.targets[idx])
        return loss, {k: np.array(as_array(grads[k], k)) for k in self.keys}

    def update(self, gradients) -> None:
        for k in self.keys:
            self.net.params[k] -= self.lr_ * gradients[k]

    def fresh(self):
        return UserNetwork(self.make_net, self.params0, self.keys, self.x, self.targets, self.lr_)


class ReferenceNetwork(TorchNet):
    """The torch model of the same parameters, trained by ``optim.SGD``: the loss as the book computes
    it (with its δ and (λ/2)·Σ‖W‖²), its gradient that of the loss without δ (the book's backward
    ignores the δ of its own forward)."""

    def __init__(self, ctx, params0, data, make_model, lr, delta, lam):
        self.delta, self.lam = delta, lam
        setup = Setup(architecture=Architecture(None, lambda params, activation: make_model()))
        super().__init__(ctx, setup, params0, data, lambda ps: torch.optim.SGD(ps, lr=lr))

    def _loss(self, i, delta):
        scores = self.model(self.x[i])
        loss = tloss.softmax_cross_entropy(scores, self.t[i], delta=delta)
        return loss + tnet.l2_penalty(self.model, self.lam) if self.lam else loss

    def loss_and_gradients(self, idx, draws):
        i = torch.as_tensor(idx, device=self.ctx.device)
        self.optimizer.zero_grad()
        with torch.no_grad():
            value = float(self._loss(i, self.delta))
        self._loss(i, 0.0).backward()
        return value, bridge.mlp_arrays(self.model, grad=True, layers=self.layers)

    def in_float64(self):
        return None


HPARAMS = (Hparam("activation", "relu", None, choices=("relu", "sigmoid", "tanh")),
           Hparam("normalization", "none", None, choices=("none", "batchnorm", "layernorm")),
           Hparam("lr", 0.1, "lr", aliases=("learning_rate",), bounds="[0, inf)"),
           Hparam("delta", 0.0, None, bounds="[0, inf)"),
           Hparam("weight_decay_lambda", 0.0, None, aliases=("reg", "weight_decay"), bounds="[0, inf)"))


def net_with(activation=None, **layers):
    """scratch's MultiLayerNet built from scratch's layers with some replaced (a catalogued mistake);
    with ``activation`` fixed, the constructor no longer takes it (as a net that hard-codes it)."""
    space = SimpleNamespace(**{**{k: getattr(SL, k) for k in dir(SL) if not k.startswith("_")}, **layers})
    if activation is None:
        def build(params, activation="relu"):
            return SN.MultiLayerNet(params, activation=activation, layers=space)
    else:
        def build(params):
            return SN.MultiLayerNet(params, activation=activation, layers=space)
    return build


PAIRS = [
    Pair("mlp", "network", "networks.MultiLayerNet", tnet.mlp,
         "a class constructed from its parameter names (input_size, hidden_size or hidden_size_list, output_size, "
         "activation, … or params) with params W1, b1, … (W as (in, out)) and gradient(x, t) -> grads plus loss(x, t), "
         "or CS231n's loss(X, y) -> (loss, grads); softmax-with-loss at the end",
         drive_network, HPARAMS, None,
         (Mistake("the book's δ = 1e-7 inside the log of its cross-entropy (SoftmaxWithLoss): PyTorch has no δ",
                  net_with(SoftmaxWithLoss=SoftmaxWithLossBookDelta), flag={"delta": 1e-7}),
          Mistake("your gradients match activation='sigmoid'", net_with("sigmoid"), flag={"activation": "sigmoid"}),
          Mistake("your gradients match activation='tanh'", net_with("tanh"), flag={"activation": "tanh"}),
          Mistake("dW has the wrong sign: dW = xᵀ·dout", net_with(Linear=LinearDWSign)),
          Mistake("db is not summed over the batch: b was added to every row, so db = Σₙ doutₙ",
                  net_with(Linear=LinearDbNotSummed)),
          Mistake("backward is not divided by the batch size: the loss is a mean, so dx = (y − t)/N",
                  net_with(SoftmaxWithLoss=SoftmaxWithLossNotAveraged))),
         ("TwoLayerNet", "MultiLayerNet", "FullyConnectedNet", "ThreeLayerNet", "TwoLayerNetwork"),
         {"reference_only": ("activation",)}),
]
