"""The sides of a training comparison of networks: adapters of a NumPy network and a PyTorch model
to :class:`comparisons.lockstep.Side`, for the one trainer :func:`comparisons.lockstep.train`.

    numpy_side, torch_side = sides.network(ctx, params0, (x, t), lambda: impl.optim.SGD(0.1),
                                           lambda ps: torch.optim.SGD(ps, lr=0.1))
    run = lockstep.train(ctx, "digits training", numpy_side, torch_side, batches)

A batch is an index array into the data (x, t) both sides hold. A :class:`Setup` says how the two
networks are built from the shared parameters: the activation, the architecture (an MLP, or a
convolutional net), batch norm and dropout, weight decay and L1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

import torch_ref.networks as tnet
import torch_ref.optim as topt

from .. import bridge
from ..lockstep import Side, load_into


def sizes_of(params: dict) -> list[int]:
    """[in, hidden…, out] of W1 … WL."""
    depth = sum(1 for k in params if k.startswith("W"))
    return [params["W1"].shape[0]] + [params[f"W{i}"].shape[1] for i in range(1, depth + 1)]


@dataclass(frozen=True)
class Architecture:
    """How the two networks are built from shared parameters: ``numpy(impl, params, activation,
    **net_options)`` makes the NumPy network (``params``, ``loss(x, t)``, ``backward()``,
    ``accuracy(x, t)``, ``predict(x)``, a ``dropouts`` list), ``torch(params, activation,
    **model_options)`` the ``nn.Module`` that ``bridge.load_mlp`` fills and ``bridge.mlp_arrays``
    reads back in the NumPy layout."""

    numpy: Callable
    torch: Callable


MLP = Architecture(
    numpy=lambda impl, params, activation, **kw: impl.networks.MultiLayerNet(params, activation=activation,
                                                                             layers=impl.layers, **kw),
    torch=lambda params, activation, **kw: tnet.mlp(sizes_of(params), activation, **kw))


@dataclass(frozen=True)
class Setup:
    """How both networks of a run are built. ``net`` and ``model`` are the options of the NumPy
    network and of the torch model (e.g. ``{"use_batchnorm": True}`` and ``{"batchnorm": True}``);
    ``torch_params(model)`` the parameter groups of the torch optimizer (weight decay on the weights
    only); ``torch_penalty(model)`` a term added to torch's loss (L1)."""

    activation: str = "relu"
    net: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    torch_params: Callable | None = None
    torch_penalty: Callable | None = None
    architecture: Architecture = MLP


class NumpyNet(Side):
    """A NumPy network and its optimizer on data (x, t), in the dtype of its parameters."""

    def __init__(self, ctx, setup: Setup, params0: dict, data, make_optimizer, schedule=None, dtype=None):
        self.ctx, self.setup, self.params0, self.data, self.make_optimizer = ctx, setup, params0, data, make_optimizer
        self.schedule, self.dtype = schedule, dtype or ctx.np_dtype
        params = {k: np.array(v, dtype=self.dtype) for k, v in params0.items()}
        self.net = setup.architecture.numpy(ctx.impl, params, setup.activation, **setup.net)
        self.optimizer = make_optimizer() if make_optimizer else None
        self.x, self.t = np.asarray(data[0], dtype=self.dtype), np.asarray(data[1])

    def state(self) -> dict:
        return {k: v.copy() for k, v in self.net.params.items()}

    def load(self, state: dict) -> None:
        load_into(self.net.params, state)

    def loss_and_gradients(self, idx, draws):
        for layer, mask in zip(self.net.dropouts, draws or ()):
            layer.set_mask(mask)
        loss = float(self.net.loss(self.x[idx], self.t[idx]))
        return loss, self.net.backward()

    def update(self, gradients) -> None:
        self.optimizer.update(self.net.params, {k: np.asarray(g, dtype=self.dtype) for k, g in gradients.items()})

    def fresh(self):
        return NumpyNet(self.ctx, self.setup, self.params0, self.data, self.make_optimizer, self.schedule, self.dtype)

    def in_float64(self):
        return NumpyNet(self.ctx, self.setup, self.params0, self.data, None, dtype=np.float64)

    def extra_state(self) -> dict:
        norms = getattr(self.net, "batchnorms", [])
        return {"running variances": np.concatenate([layer.running_var for layer in norms])} if norms else {}

    def start_epoch(self, epoch: int) -> None:
        if self.schedule is not None:
            self.optimizer.lr = self.schedule(epoch)

    @property
    def lr(self):
        return self.optimizer.lr if self.schedule is not None else None


class TorchNet(Side):
    """A torch model and its optimizer (and scheduler, stepped after an epoch's last step, as PyTorch
    documents) on data (x, t). Its gradients and loss are those its optimizer acts on: coupled weight
    decay included (``torch_ref.optim.effective_gradient``/``effective_loss``). Its dropout masks are
    recorded (``draws()``), for the NumPy side to use."""

    def __init__(self, ctx, setup: Setup, params0: dict, data, make_optimizer, make_scheduler=None, dtype=None):
        self.ctx, self.setup, self.params0, self.data, self.make_optimizer = ctx, setup, params0, data, make_optimizer
        self.dtype = dtype or ctx.torch_dtype
        model = setup.architecture.torch(params0, setup.activation, **setup.model)
        self.model = bridge.load_mlp(model.to(dtype=self.dtype, device=ctx.device), params0)
        self.optimizer = make_optimizer(setup.torch_params(self.model) if setup.torch_params else self.model.parameters())
        self.scheduler = make_scheduler(self.optimizer) if make_scheduler else None
        self.layers = bridge.mlp_layers(self.model)
        self.masks = bridge.DropoutMasks(self.model) if any(isinstance(m, nn.Dropout) for m in self.model.modules()) else None
        self.x = torch.as_tensor(np.asarray(data[0]), dtype=self.dtype, device=ctx.device)
        self.t = ctx.labels(data[1])

    def state(self) -> dict:
        return bridge.mlp_arrays(self.model, layers=self.layers)

    def load(self, state: dict) -> None:
        bridge.load_mlp(self.model, state)

    def loss_and_gradients(self, idx, draws):
        if draws is not None and self.masks is None:  # a re-take of a step whose masks were drawn: fix them
            tnet.with_fixed_masks(self.model, draws)
        i = torch.as_tensor(idx, device=self.ctx.device)
        loss = tnet.loss_and_backward(self.model, self.optimizer, self.x[i], self.t[i], penalty=self.setup.torch_penalty)
        grads = bridge.mlp_arrays(self.model, of=lambda p: topt.effective_gradient(self.optimizer, p), layers=self.layers)
        return float(topt.effective_loss(self.optimizer, loss)), grads

    def update(self, gradients) -> None:
        self.optimizer.step()

    def draws(self):
        return self.masks.take() if self.masks is not None else None

    def in_float64(self):
        side = TorchNet(self.ctx, self.setup, self.params0, self.data, self.make_optimizer, dtype=torch.float64)
        if side.masks is not None:
            side.masks.remove()
            side.masks = None
        return side

    def extra_state(self) -> dict:
        norms = [m for m in self.model.modules() if isinstance(m, nn.BatchNorm1d)]
        return {"running variances": np.concatenate([self.ctx.numpy(m.running_var) for m in norms])} if norms else {}

    def end_epoch(self, epoch: int) -> None:
        if self.scheduler is not None:
            self.scheduler.step()

    @property
    def lr(self):
        return self.optimizer.param_groups[0]["lr"]


def network(ctx, params0: dict, data, numpy_optimizer, torch_optimizer, setup: Setup = Setup(),
            schedule=None) -> tuple[NumpyNet, TorchNet]:
    """The two sides of a network run from the shared ``params0`` on ``data`` = (x, t):
    ``numpy_optimizer()`` makes the NumPy side's optimizer, ``torch_optimizer(parameters)`` torch's.
    ``schedule`` = (lr_of_epoch, make_torch_scheduler(optimizer)): the learning rate changes once
    per epoch (give :func:`comparisons.lockstep.train` the epochs)."""
    np_schedule, make_scheduler = schedule or (None, None)
    return (NumpyNet(ctx, setup, params0, data, numpy_optimizer, np_schedule),
            TorchNet(ctx, setup, params0, data, torch_optimizer, make_scheduler))


class NumpyMultiTask(Side):
    """A NumPy multi-task net (a shared trunk, two heads) and its optimizer on data (x, labels of head
    a, labels of head b); its loss is the pair of head losses."""

    loss_name = "head losses"

    def __init__(self, ctx, params0: dict, data, make_optimizer, dtype=None):
        self.ctx, self.params0, self.data, self.make_optimizer = ctx, params0, data, make_optimizer
        self.dtype = dtype or ctx.np_dtype
        params = {k: np.array(v, dtype=self.dtype) for k, v in params0.items()}
        self.net = ctx.impl.networks.MultiTaskNet(params, layers=ctx.impl.layers)
        self.optimizer = make_optimizer() if make_optimizer else None
        self.x, self.ta, self.tb = np.asarray(data[0], dtype=self.dtype), data[1], data[2]

    def state(self) -> dict:
        return {k: v.copy() for k, v in self.net.params.items()}

    def load(self, state: dict) -> None:
        load_into(self.net.params, state)

    def loss_and_gradients(self, idx, draws):
        grads = self.net.gradient(self.x[idx], self.ta[idx], self.tb[idx])
        return (self.net.head_losses["a"], self.net.head_losses["b"]), grads

    def update(self, gradients) -> None:
        self.optimizer.update(self.net.params, {k: np.asarray(g, dtype=self.dtype) for k, g in gradients.items()})

    def fresh(self):
        return NumpyMultiTask(self.ctx, self.params0, self.data, self.make_optimizer, self.dtype)

    def in_float64(self):
        return NumpyMultiTask(self.ctx, self.params0, self.data, None, np.float64)


class TorchMultiTask(Side):
    """``torch_ref.multitask.MultiTaskNet`` trained on L_a + L_b by its optimizer."""

    loss_name = "head losses"

    def __init__(self, ctx, params0: dict, data, make_optimizer, dtype=None):
        from torch_ref import multitask as tmt

        self.ctx, self.params0, self.data, self.make_optimizer, self.tmt = ctx, params0, data, make_optimizer, tmt
        self.dtype = dtype or ctx.torch_dtype
        W1, Wa, Wb = params0["W1"], params0["Wa"], params0["Wb"]
        model = tmt.MultiTaskNet(W1.shape[0], W1.shape[1], Wa.shape[1], Wb.shape[1])
        self.model = bridge.load_multitask(model.to(dtype=self.dtype, device=ctx.device), params0)
        self.optimizer = make_optimizer(self.model.parameters())
        self.x = torch.as_tensor(np.asarray(data[0]), dtype=self.dtype, device=ctx.device)
        self.ta, self.tb = ctx.labels(data[1]), ctx.labels(data[2])

    def state(self) -> dict:
        return bridge.multitask_arrays(self.model)

    def load(self, state: dict) -> None:
        bridge.load_multitask(self.model, state)

    def loss_and_gradients(self, idx, draws):
        i = torch.as_tensor(idx, device=self.ctx.device)
        self.optimizer.zero_grad()
        la, lb = self.tmt.losses(self.model, self.x[i], self.ta[i], self.tb[i])
        (la + lb).backward()
        return (la.item(), lb.item()), bridge.multitask_arrays(self.model, grad=True)

    def update(self, gradients) -> None:
        self.optimizer.step()

    def in_float64(self):
        return TorchMultiTask(self.ctx, self.params0, self.data, self.make_optimizer, torch.float64)


def multitask(ctx, params0: dict, data, numpy_optimizer, torch_optimizer) -> tuple[NumpyMultiTask, TorchMultiTask]:
    """The two sides of a multi-task run on ``data`` = (x, labels a, labels b)."""
    return (NumpyMultiTask(ctx, params0, data, numpy_optimizer), TorchMultiTask(ctx, params0, data, torch_optimizer))
