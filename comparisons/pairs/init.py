"""Weight initializers (kind ``initializer``): ``f(rng, shape, **hparams) -> W`` (or any signature
whose parameter names ask for ``rng``, ``shape`` or ``fan_in``/``fan_out``, and the
hyperparameters), against ``torch.nn.init`` through ``torch_ref.init``.

The two libraries draw from different generators, so a draw is judged statistically against
the exact distribution (its mean, standard deviation, the fraction within one σ, and a uniform's
bound, each with a 6-standard-error bound: see ``_drivers.sample_checks``), on a 2-D W (in, out)
= (300, 200) and on filters (64, 32, 3, 3); the fans themselves are compared exactly.

Conventions, each with its flag:

* the book's "Xavier", N(0, 1/fan_in), is LeCun's: ``--hparam mode=fan_in`` (Glorot & Bengio's
  Xavier, torch's ``xavier_normal_``, is N(0, 2/(fan_in + fan_out)) = N(0, 1/fan_avg));
* He with fan_out (torch's ``kaiming_normal_(mode='fan_out')``, or the book's W (in, out) read in
  torch's (out, in) layout): ``--hparam mode=fan_out``.
"""

from __future__ import annotations

import numpy as np

import scratch.init as SI
import torch_ref.init as tinit

from ._base import Hparam, Mistake, Pair, shows
from ._drivers import drive_fans, drive_initializer

GAIN = Hparam("gain", 1.0, "gain")
XAVIER_MODE = Hparam("mode", "fan_avg", "mode", choices=("fan_avg", "fan_in", "fan_out"))
HE_MODE = Hparam("mode", "fan_in", "mode", choices=("fan_in", "fan_out"))
TANH_GAIN = 5 / 3  # torch_ref.init.calculate_gain('tanh')


def weight_inputs(ctx, gain_case: bool = False):
    """(shape, hyperparameters of the case, optional): W (in, out) with fan_in ≠ fan_out, so a
    swap shows; filters (out_channels, in_channels, kh, kw) (optional: a function of fan_in and
    fan_out cannot make them); for Xavier, the tanh gain 5/3 (optional: it needs a ``gain``)."""
    cases = {"W (300, 200)": ((300, 200), {}, False), "filters (64, 32, 3, 3)": ((64, 32, 3, 3), {}, True)}
    if gain_case:
        cases["W (300, 200), gain 5/3 (tanh)"] = ((300, 200), {"gain": TANH_GAIN}, True)
    return cases


def _torch_init(name):
    fn = tinit.INITIALIZERS[name]

    def init(weight, generator=None, **kw):
        return fn(weight, generator=generator, **kw)
    init.__doc__ = f"torch_ref.init.{name}(weight, ...), in place on a weight in torch's layout"
    return shows(init, fn)


# --- catalogued mistakes (the same interface as scratch.init's) -----------------------------------

def _fan_in_out_swapped(shape):
    fan_in, fan_out = SI.fans(shape)
    return fan_out, fan_in


def he_normal_fan_out(rng, shape):
    _, fan_out = SI.fans(shape)
    return SI.normal(rng, shape, np.sqrt(2.0 / fan_out))


def he_uniform_fan_out(rng, shape):
    _, fan_out = SI.fans(shape)
    return SI.uniform(rng, shape, np.sqrt(6.0 / fan_out))


def he_uniform_bound_is_std(rng, shape):
    fan_in, _ = SI.fans(shape)
    return SI.uniform(rng, shape, np.sqrt(2.0 / fan_in))


def he_normal_uniform_draw(rng, shape):
    fan_in, _ = SI.fans(shape)
    return SI.uniform(rng, shape, np.sqrt(3.0) * np.sqrt(2.0 / fan_in))


def xavier_normal_book(rng, shape, gain=1.0):
    fan_in, _ = SI.fans(shape)
    return SI.normal(rng, shape, gain * np.sqrt(1.0 / fan_in))


def xavier_normal_no_gain(rng, shape, gain=1.0):
    return SI.xavier_normal(rng, shape)


def xavier_normal_variance_as_std(rng, shape, gain=1.0):
    fan_in, fan_out = SI.fans(shape)
    return SI.normal(rng, shape, gain * 2.0 / (fan_in + fan_out))


def xavier_uniform_bound_is_std(rng, shape, gain=1.0):
    fan_in, fan_out = SI.fans(shape)
    return SI.uniform(rng, shape, gain * np.sqrt(2.0 / (fan_in + fan_out)))


def xavier_uniform_no_gain(rng, shape, gain=1.0):
    return SI.xavier_uniform(rng, shape)


def _receptive_field_left_out(shape):
    return tuple(shape[:2][::-1]) if len(shape) == 4 else SI.fans(shape)


FAN_SWAP = ("fan_out where fan_in belongs: the book's W is (in, out), so fan_in = W.shape[0]; torch's weight is "
            "(out, in) (fan_in = shape[1]). torch's kaiming_*_(mode='fan_out') draws the same")
INTERFACE = "a function f(rng, shape{}) -> W of that shape, W (in, out) or filters (out_channels, in_channels, kh, " \
            "kw) (parameters may instead be named fan_in, fan_out; without rng it draws from np.random)"

PAIRS = [
    Pair("xavier-normal", "initializer", "init.xavier_normal", _torch_init("xavier_normal"), INTERFACE.format(", gain"),
         drive_initializer, (GAIN, XAVIER_MODE), lambda ctx: weight_inputs(ctx, gain_case=True),
         (Mistake("the book's \"Xavier\" N(0, 1/fan_in) is LeCun's; Glorot & Bengio's (torch's xavier_normal_) is "
                  "N(0, 2/(fan_in + fan_out))", xavier_normal_book, flag={"mode": "fan_in"}),
          Mistake("the gain is ignored: std = gain·√(2/(fan_in + fan_out))", xavier_normal_no_gain),
          Mistake("the variance 2/(fan_in + fan_out) is used as the std: take its square root",
                  xavier_normal_variance_as_std)),
         ("xavier_normal", "glorot_normal", "xavier_init", "xavier"), {"torch_name": "xavier_normal"}),
    Pair("xavier-uniform", "initializer", "init.xavier_uniform", _torch_init("xavier_uniform"),
         INTERFACE.format(", gain"), drive_initializer, (GAIN, XAVIER_MODE), lambda ctx: weight_inputs(ctx, gain_case=True),
         (Mistake("the bound is the std √(2/(fan_in + fan_out)): U(±a) has std a/√3, so a = √3·std = "
                  "√(6/(fan_in + fan_out))", xavier_uniform_bound_is_std),
          Mistake("the gain is ignored: the bound is gain·√(6/(fan_in + fan_out))", xavier_uniform_no_gain)),
         ("xavier_uniform", "glorot_uniform"), {"torch_name": "xavier_uniform"}),
    Pair("he-normal", "initializer", "init.he_normal", _torch_init("he_normal"), INTERFACE.format(""),
         drive_initializer, (HE_MODE,), weight_inputs,
         (Mistake(FAN_SWAP, he_normal_fan_out, flag={"mode": "fan_out"}),
          Mistake("ReLU's gain √2 is missing: N(0, 1/fan_in) is LeCun's; He's is N(0, 2/fan_in)", SI.lecun_normal),
          Mistake("drawn from a uniform with He's std: he_normal is N(0, 2/fan_in)", he_normal_uniform_draw)),
         ("he_normal", "kaiming_normal", "he_init", "he"), {"torch_name": "he_normal"}),
    Pair("he-uniform", "initializer", "init.he_uniform", _torch_init("he_uniform"), INTERFACE.format(""),
         drive_initializer, (HE_MODE,), weight_inputs,
         (Mistake(FAN_SWAP, he_uniform_fan_out, flag={"mode": "fan_out"}),
          Mistake("the bound is the std √(2/fan_in): U(±a) has std a/√3, so a = √3·std = √(6/fan_in)",
                  he_uniform_bound_is_std),
          Mistake("ReLU's gain √2 is missing: U(±√(3/fan_in)) is LeCun's; He's bound is √(6/fan_in)",
                  SI.lecun_uniform)),
         ("he_uniform", "kaiming_uniform"), {"torch_name": "he_uniform"}),
    Pair("lecun-normal", "initializer", "init.lecun_normal", _torch_init("lecun_normal"), INTERFACE.format(""),
         drive_initializer, (), weight_inputs,
         (Mistake("He's gain √2 is included: LeCun's is N(0, 1/fan_in)", SI.he_normal),),
         ("lecun_normal",), {"torch_name": "lecun_normal"}),
    Pair("lecun-uniform", "initializer", "init.lecun_uniform", _torch_init("lecun_uniform"), INTERFACE.format(""),
         drive_initializer, (), weight_inputs, (), ("lecun_uniform",), {"torch_name": "lecun_uniform"}),
    Pair("fans", "initializer", "init.fans", tinit.fans,
         "a function fans(shape) -> (fan_in, fan_out) for W (in, out) or filters (out_channels, in_channels, kh, kw)",
         drive_fans, (), lambda ctx: {"W (300, 200)": (300, 200), "W (1, 7)": (1, 7),
                                      "filters (64, 32, 3, 3)": (64, 32, 3, 3), "filters (8, 3, 5, 1)": (8, 3, 5, 1)},
         (Mistake(FAN_SWAP.split(". torch's kaiming")[0], _fan_in_out_swapped),
          Mistake("the receptive field is left out: a filter (out, in, kh, kw) has fan_in = in·kh·kw and "
                  "fan_out = out·kh·kw", _receptive_field_left_out)),
         ("fans", "calculate_fans", "get_fans", "compute_fans", "fan_in_and_fan_out")),
]
