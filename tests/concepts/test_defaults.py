"""Constructed with no hyperparameters, each NumPy class behaves as PyTorch's at its defaults, or,
where the project keeps the book's default (momentum 0.9), as PyTorch's given that value.

Each test plants one wrong default and expects the concept's defaults check to fail: a whole run
each, ``slow`` but where the concept's quick run takes about a second (the activations).
"""

import inspect

import pytest

import scratch
import scratch.optim as O
from comparisons.concepts import optimizers
from comparisons.implementation import with_overrides

from ..conftest import run_concept


def with_defaults(cls, **defaults):
    """A subclass of ``cls`` whose constructor fills in other defaults (a planted wrong default)."""

    def __init__(self, *args, **kwargs):
        given = inspect.signature(cls.__init__).bind_partial(self, *args, **kwargs).arguments
        cls.__init__(self, *args, **kwargs, **{k: v for k, v in defaults.items() if k not in given})

    __init__.__signature__ = inspect.signature(cls.__init__)  # the same parameters as the class it plants into
    return type(cls.__name__, (cls,), {"__init__": __init__, "__doc__": f"{cls.__name__} with defaults {defaults}"})


def leaky_relu_slope_0_1(x, negative_slope=0.1):
    return scratch.activations.leaky_relu(x, negative_slope)


def leaky_relu_grad_slope_0_1(x, negative_slope=0.1):
    return scratch.activations.leaky_relu_grad(x, negative_slope)


def elu_alpha_0_5(x, alpha=0.5):
    return scratch.activations.elu(x, alpha)


PLANTED = {
    "Adam eps 1e-7": ("optimizers", {"optim.Adam": with_defaults(O.Adam, eps=1e-7)}, "Adam() = torch.optim.Adam()"),
    "Adam beta2 0.99": ("optimizers", {"optim.Adam": with_defaults(O.Adam, beta2=0.99)}, "Adam() = torch.optim.Adam()"),
    "AdamW weight_decay 0": ("optimizers", {"optim.AdamW": with_defaults(O.AdamW, weight_decay=0.0)},
                             "AdamW() = torch.optim.AdamW()"),
    "AdaGrad eps 1e-7 (the book's)": ("optimizers", {"optim.AdaGrad": with_defaults(O.AdaGrad, eps=1e-7)},
                                      "AdaGrad() = torch.optim.Adagrad()"),
    "RMSProp decay 0.9": ("optimizers", {"optim.RMSProp": with_defaults(O.RMSProp, decay_rate=0.9)},
                          "RMSProp() = torch.optim.RMSprop()"),
    "RMSProp lr 0.001": ("optimizers", {"optim.RMSProp": with_defaults(O.RMSProp, lr=0.001)},
                         "RMSProp() = torch.optim.RMSprop()"),
    "Momentum momentum 0.5": ("optimizers", {"optim.Momentum": with_defaults(O.Momentum, momentum=0.5)},
                              optimizers.DEFAULT_MOMENTUM),
    "Nesterov momentum 0.5": ("optimizers", {"optim.Nesterov": with_defaults(O.Nesterov, momentum=0.5)},
                              "Nesterov(lr)'s default momentum 0.9"),
    "LeakyReLU layer slope 0.1": ("activations", {"layers.LeakyReLU": with_defaults(scratch.layers.LeakyReLU, negative_slope=0.1)},
                                  "leaky_relu at its default = nn.LeakyReLU()"),
    "leaky_relu slope 0.1": ("activations", {"activations.leaky_relu": leaky_relu_slope_0_1},
                             "leaky_relu at its default = nn.LeakyReLU()"),
    "leaky_relu_grad slope 0.1": ("activations", {"activations.leaky_relu_grad": leaky_relu_grad_slope_0_1},
                                  "leaky_relu at its default = nn.LeakyReLU()"),
    "ELU layer alpha 0.5": ("activations", {"layers.ELU": with_defaults(scratch.layers.ELU, alpha=0.5)},
                            "elu at its default = nn.ELU()"),
    "elu alpha 0.5": ("activations", {"activations.elu": elu_alpha_0_5}, "elu at its default = nn.ELU()"),
    "BatchNorm1d eps 1e-6 (the book's)": ("batchnorm", {"layers.BatchNorm1d": with_defaults(scratch.layers.BatchNorm1d, eps=1e-6)},
                                          "BatchNorm1d defaults = nn.BatchNorm1d defaults"),
    "BatchNorm1d momentum 0.1 (torch's number, book's meaning)": (
        "batchnorm", {"layers.BatchNorm1d": with_defaults(scratch.layers.BatchNorm1d, momentum=0.1)},
        "BatchNorm1d defaults = nn.BatchNorm1d defaults"),
    "Dropout p 0.2": ("dropout", {"layers.Dropout": with_defaults(scratch.layers.Dropout, p=0.2)},
                      "Dropout() default p 0.5 = nn.Dropout()"),
}


@pytest.mark.parametrize("mistake", [pytest.param(m, marks=[] if PLANTED[m][0] == "activations" else [pytest.mark.slow])
                                     for m in PLANTED])
def test_a_wrong_default_is_caught(mistake):
    concept_id, overrides, expected = PLANTED[mistake]
    ctx = run_concept(concept_id, impl=with_overrides(overrides))
    assert any(r.check.startswith(expected) for r in ctx.records), f"no check named {expected!r}"
    assert any(r.check.startswith(expected) and not r.passed for r in ctx.records), \
        f"the wrong default went unnoticed: {[r.check for r in ctx.records if not r.passed]}"


@pytest.mark.parametrize("concept_id", ["activations"] + [pytest.param(c, marks=pytest.mark.slow)
                                                         for c in ("optimizers", "batchnorm", "dropout")])
def test_the_defaults_checks_pass_for_scratch(concept_id):
    ctx = run_concept(concept_id)
    defaults = [r for r in ctx.records if "default" in r.check]
    assert defaults and all(r.passed for r in defaults)

