"""Weight initializers (kind ``initializer``): ``f(rng, shape, **hparams) -> W`` (or any signature
whose parameter names ask for ``rng``, ``shape`` or ``fan_in``/``fan_out``, and the
hyperparameters), against ``torch.nn.init`` through ``torch_ref.init``.

The two libraries draw from different generators, so a draw is judged statistically against
the exact distribution (its mean, standard deviation, the fraction within one σ, and a uniform's
bound, each with a 6-standard-error bound: see :func:`sample_checks`), on a 2-D W (in, out)
= (300, 200) and on filters (64, 32, 3, 3); the fans themselves are compared exactly.

Conventions, each with its flag:

* the book's "Xavier", N(0, 1/fan_in), is LeCun's: ``--hparam mode=fan_in`` (Glorot & Bengio's
  Xavier, torch's ``xavier_normal_``, is N(0, 2/(fan_in + fan_out)) = N(0, 1/fan_avg));
* He with fan_out (torch's ``kaiming_normal_(mode='fan_out')``, or the book's W (in, out) read in
  torch's (out, in) layout): ``--hparam mode=fan_out``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch

import scratch.init as SI
import torch_ref.init as tinit

from .. import seeding
from ._base import Comparison, Hparam, Mistake, Pair, VerifyUsageError, as_array, call, parameters, shows

INIT_ARGUMENTS = {  # what an initializer's parameters may be called, by what the driver gives them
    "rng": ("rng", "generator", "random_state", "rs"),
    "shape": ("shape", "size", "dims", "weight_shape"),
    "fan_in": ("fan_in", "n_in", "n_inputs", "input_size", "in_features", "node_num", "n_input"),
    "fan_out": ("fan_out", "n_out", "n_outputs", "output_size", "out_features", "n_output"),
}


SIGMAS = 6  # every statistical bound is 6 standard errors wide: a correct draw leaves it with p < 2e-9


def torch_layout(shape: tuple) -> tuple:
    """The book's W (in, out) is torch's weight (out, in); filters (out, in, kh, kw) are laid out alike."""
    return tuple(shape[::-1]) if len(shape) == 2 else tuple(shape)


def _init_call(ctx, pair, fn, shape, hparams, seed):
    """Call a user's initializer with what its parameter names ask for; a function that takes no
    generator draws from NumPy's global one, seeded here. None: it cannot make this shape."""
    params = parameters(fn)
    names = {n: key for key, ns in INIT_ARGUMENTS.items() for n in ns}
    kwargs, args = {}, []
    if params is None:
        args, kwargs = [np.random.default_rng(seed), shape], dict(hparams)
    else:
        for name, p in params.items():
            what = names.get(name.lower())
            hp = pair.hparam(name)
            if what == "rng":
                kwargs[name] = np.random.default_rng(seed)
            elif what == "shape":
                kwargs[name] = shape
            elif what in ("fan_in", "fan_out"):
                if len(shape) != 2:
                    return None
                kwargs[name] = shape[0] if what == "fan_in" else shape[1]
            elif hp is not None and hp.name in hparams:
                kwargs[name] = hparams[hp.name]
            elif p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise VerifyUsageError(f"{pair.kind} {pair.id} expects {pair.interface}; it asks for {name!r}, which "
                                       f"this reference cannot give (it gives rng, shape, fan_in, fan_out, "
                                       f"{', '.join(hp.name for hp in pair.hparams)})")
        if not any(names.get(n.lower()) == "rng" for n in params):
            np.random.seed(seed)
    return as_array(call(fn, f"calling it for shape {shape}", *args, **kwargs), "its result")


def sample_checks(label: str, w: np.ndarray, family: str, scale: float) -> list:
    """A sample of n weights against N(0, σ²) (scale σ) or U(−a, a) (scale a, σ = a/√3), each
    check a bound that a correct draw leaves with probability < 2e-9 (6 standard errors):

    * the mean: |w̄| ≤ 6σ/√n;
    * the standard deviation: |s − σ| ≤ 6·sd(s), sd(s) = σ/√(2n) (normal), σ·√(0.8/(4n)) (uniform:
      Var(s²) = (μ₄ − σ⁴)/n with μ₄ = 9σ⁴/5);
    * the fraction of |w| ≤ σ: erf(1/√2) = 0.6827 (normal) or 1/√3 = 0.5774 (uniform), ± 6 binomial
      standard errors (this tells the two families apart at equal σ);
    * uniform only: max |w| in [a(1 − 20/n), a] (P(max |w| < a(1 − ε)) = (1 − ε)ⁿ ≈ e^(−20) at ε = 20/n)."""
    w = np.asarray(w, dtype=np.float64).ravel()
    n = w.size
    sigma = scale if family == "normal" else scale / np.sqrt(3.0)
    sd_s = sigma / np.sqrt(2 * n) if family == "normal" else sigma * np.sqrt(0.8 / (4 * n))
    inside = float(math.erf(1 / math.sqrt(2))) if family == "normal" else 1 / math.sqrt(3.0)
    out = [
        Comparison(f"{label}: mean ≈ 0 (±6 s.e.)", np.array(w.mean()), np.array(0.0),
                   kind="statistical", tol=SIGMAS * sigma / np.sqrt(n)),
        Comparison(f"{label}: std ≈ σ = {sigma:.4g} (±6 s.e.)", np.array(w.std()), np.array(sigma),
                   kind="statistical", tol=SIGMAS * sd_s),
        Comparison(f"{label}: P(|w| ≤ σ) ≈ {inside:.4f} (±6 s.e.)", np.array(np.mean(np.abs(w) <= sigma)),
                   np.array(inside), kind="statistical", tol=SIGMAS * np.sqrt(inside * (1 - inside) / n)),
    ]
    if family == "uniform":  # [a(1 − 20/n), a], with a millionth of a for rounding
        out.append(Comparison(f"{label}: max |w| in [a(1 − 20/n), a = {scale:.4g}]", np.array(np.abs(w).max()),
                              np.array(scale * (1 - 10 / n)), kind="statistical", tol=scale * (10 / n + 1e-6)))
    return out


def _takes_hparam(fn, pair, name: str) -> bool:
    params = parameters(fn)
    return params is None or any(pair.hparam(p) is not None and pair.hparam(p).name == name for p in params)


def drive_initializer(ctx, pair, fn, hparams, run):
    """The user's draw and PyTorch's for each shape (2-D W (in, out) and 4-D filters): the shape,
    then each sample against the distribution PyTorch's documented formula gives from torch's own
    fans and gains (:func:`torch_ref.init.distribution`). The two draws come from different
    generators, so they are judged statistically (:func:`sample_checks`), never element by element."""
    out = []
    for k, (label, (shape, extra, optional)) in enumerate(pair.inputs(ctx).items()):
        hk = {**hparams, **extra}
        if not all(_takes_hparam(fn, pair, name) for name in extra):
            run.notes.append(f"skipped '{label}': it takes no {', '.join(extra)}")
            continue
        seed = int(seeding.task(ctx.seed, f"{ctx.concept}: {pair.id} draw {k}").generate_state(1)[0])
        w = _init_call(ctx, pair, fn, shape, hk, seed)
        if w is None:
            run.notes.append(f"skipped '{label}': it takes fan_in and fan_out, not a shape")
            continue
        generator = torch.Generator().manual_seed(seed)
        weight = torch.empty(torch_layout(shape), dtype=ctx.torch_dtype)
        pair.torch(weight, generator=generator, **pair.torch_kwargs(hk))
        family, scale = tinit.distribution(pair.options["torch_name"], weight, **pair.torch_kwargs(hk))
        out.append(Comparison(f"shape, {label}", np.array(w.shape), np.array(shape)))
        out += sample_checks(f"yours, {label}", w, family, scale)
        out += sample_checks(f"PyTorch's draw, {label}", ctx.numpy(weight), family, scale)
    return out


def drive_fans(ctx, pair, fn, hparams, run):
    """(fan_in, fan_out) of each shape against what ``torch.nn.init`` computes for the same weight
    in torch's layout: exact integers."""
    out = []
    for label, shape in pair.inputs(ctx).items():
        result = as_array(call(fn, f"calling it on shape {shape}", shape), "its result")
        expected = tinit.fans(torch.empty(torch_layout(shape)))
        out.append(Comparison(f"(fan_in, fan_out), {label}", result, np.array(expected, dtype=np.float64)))
    return out

GAIN = Hparam("gain", 1.0, "gain", bounds="(0, inf)")
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
