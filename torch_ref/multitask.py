"""Multi-task learning as a PyTorch user writes it: a module with a shared trunk and two heads,
the two ``CrossEntropyLoss`` terms summed, one ``backward()``."""

from __future__ import annotations

from torch import nn


class MultiTaskNet(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_a: int, n_b: int):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU())
        self.head_a = nn.Linear(n_hidden, n_a)
        self.head_b = nn.Linear(n_hidden, n_b)

    def forward(self, x):
        h = self.trunk(x)
        return self.head_a(h), self.head_b(h)


def losses(model: MultiTaskNet, x, ta, tb):
    """(L_a, L_b): autograd sums their gradients wherever the graph is shared."""
    scores_a, scores_b = model(x)
    criterion = nn.CrossEntropyLoss()
    return criterion(scores_a, ta), criterion(scores_b, tb)
