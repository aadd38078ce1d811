"""The multi-layer network as a PyTorch user writes it: ``nn.Sequential`` of ``nn.Linear`` and
activations, trained with ``nn.CrossEntropyLoss`` and a ``torch.optim`` optimizer."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "identity": nn.Identity}


def mlp(sizes: list[int], activation: str = "relu", batchnorm: bool = False, dropout: float = 0.0,
        bn_momentum: float = 0.1, bn_eps: float = 1e-5, layernorm: bool = False) -> nn.Sequential:
    """Linear(sizes[0], sizes[1]) → [BatchNorm1d or LayerNorm] → act → [Dropout] → … → Linear(sizes[-2],
    sizes[-1]) (CS231n's FullyConnectedNet with its normalization option). No softmax at the end
    (``nn.CrossEntropyLoss`` takes the scores)."""
    modules = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        modules.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            if batchnorm:
                modules.append(nn.BatchNorm1d(n_out, momentum=bn_momentum, eps=bn_eps))
            if layernorm:
                modules.append(nn.LayerNorm(n_out, eps=bn_eps))
            modules.append(ACTIVATIONS[activation]())
            if dropout > 0:
                modules.append(nn.Dropout(dropout))
    return nn.Sequential(*modules)


def weight_decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Parameter groups that decay the Linear weights only, as the book does: ``weight_decay`` in
    ``torch.optim`` applies to every parameter of a group, biases and batch-norm's γ, β included."""
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    ids = {id(w) for w in weights}
    others = [p for p in model.parameters() if id(p) not in ids]
    return [{"params": weights, "weight_decay": weight_decay}, {"params": others, "weight_decay": 0.0}]


def l2_penalty(model: nn.Module, lam: float) -> torch.Tensor:
    """(λ/2)·Σ‖W‖² over the Linear weights (not the biases), as the book and CS231n add to the loss."""
    return 0.5 * lam * sum((m.weight ** 2).sum() for m in model.modules() if isinstance(m, nn.Linear))


def l1_penalty(model: nn.Module, lam: float) -> torch.Tensor:
    """λ·Σ|W| over the Linear weights: PyTorch's optimizers have no L1 option, so it is added to
    the loss and autograd differentiates it (sign(0) = 0)."""
    return lam * sum(m.weight.abs().sum() for m in model.modules() if isinstance(m, nn.Linear))


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x, t, criterion=None, penalty=None) -> torch.Tensor:
    """One step of the canonical loop: zero_grad, forward, loss, backward, step. Returns the loss
    (with ``penalty(model)`` added when given)."""
    loss = loss_and_backward(model, optimizer, x, t, criterion, penalty)
    optimizer.step()
    return loss


def loss_and_backward(model: nn.Module, optimizer: torch.optim.Optimizer, x, t, criterion=None, penalty=None) -> torch.Tensor:
    """The first half of :func:`train_step`: zero_grad, forward, loss, backward — the gradients are
    in ``p.grad`` and ``optimizer.step()`` has not been taken yet."""
    criterion = criterion or nn.CrossEntropyLoss()
    optimizer.zero_grad()
    loss = criterion(model(x), t)
    if penalty is not None:
        loss = loss + penalty(model)
    loss.backward()
    return loss.detach()


@torch.no_grad()
def outputs(model: nn.Module, x) -> torch.Tensor:
    """The model's outputs (logits) in evaluation mode, without a graph; the training mode is restored."""
    was_training = model.training
    model.eval()
    out = model(x)
    model.train(was_training)
    return out


@torch.no_grad()
def accuracy(model: nn.Module, x, t, batch_size: int = 1000) -> float:
    """The fraction of rows whose largest score is the label, in evaluation mode, ``batch_size``
    rows at a time (a convolutional net's feature maps of a whole test set need not fit at once)."""
    was_training = model.training
    model.eval()
    hits = sum(int((model(x[i:i + batch_size]).argmax(dim=1) == t[i:i + batch_size]).sum())
               for i in range(0, len(x), batch_size))
    model.train(was_training)
    return hits / len(x)


class FixedMaskDropout(nn.Module):
    """Inverted dropout with a keep-mask given in advance: x ⊙ m / (1 − p). Used to re-take a
    step whose masks ``nn.Dropout`` already drew (the same step, re-evaluated in float64)."""

    def __init__(self, mask: torch.Tensor, p: float):
        super().__init__()
        self.mask, self.p = mask, p

    def forward(self, x):
        return x * self.mask.to(x.dtype) / (1 - self.p)


def with_fixed_masks(model: nn.Sequential, masks) -> nn.Sequential:
    """``model`` with its ``nn.Dropout`` modules, in order, replaced by :class:`FixedMaskDropout`
    holding ``masks``."""
    masks = iter(masks)
    for i, module in enumerate(model):
        if isinstance(module, nn.Dropout):
            model[i] = FixedMaskDropout(torch.as_tensor(next(masks), device=next(model.parameters()).device), module.p)
    return model
