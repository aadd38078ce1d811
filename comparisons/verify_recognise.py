"""What ``verify FILE.py`` judges: each object the file defines, matched to a declaration by its
name and then by its calling style — a class with ``forward``/``backward``, CS231n's
``X_forward``/``X_backward`` couples and ``optim.py``'s update rules ``(w, dw, config)``, a one-step
recurrent cell told from a whole-sequence layer by its ``forward``. An object whose name is known
but whose interface is not is skipped, with the interface its reference expects."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

from . import pairs
from .pairs._base import parameters
from .pairs.functional import adapter, rule_optimizer

# X_forward / X_backward, also CS231n's X_forward_naive / X_backward_naive, X_forward_fast / …, and a
# second backward X_backward_alt judged as a couple of its own
_FORWARD = re.compile(r"(?P<stem>.+)_forward(?P<suffix>_naive|_fast)?")
BACKWARD_SUFFIXES = ("", "_alt")

NO_COUNTERPART = {
    "knearestneighbor": "a k-nearest-neighbour classifier: PyTorch has no such module",
    "basemodel": "saving and loading parameters: nothing to compare with PyTorch",
    "solver": "a training loop: it calls your layers, which are judged on their own",
    "numericalgradient2d": "the gradient of f at each row of X as a separate point (the book's helper for plotting a "
    "gradient field): verify judges numerical_gradient(f, x) of one function of the whole x",
    "captioningsolver": "a training loop: it calls your layers, which are judged on their own",
}
NO_COUNTERPART_FUNCTIONS = {
    "preprocess", "mostsimilar", "createcomatrix", "ppmi", "createcontextstarget", "tocpu", "togpu",
    "evalperplexity", "evalseq2seq", "analogy", "normalize", "getminibatch", "loaddata", "softmaxlossnaive2",
    "smoothcurve", "shuffledataset", "convoutputsize",
}
NOT_YET = {
    "multilayernetextend": "no network reference with batch norm and dropout in the book's form yet",
    "encoder": "no sequence-to-sequence reference yet", "decoder": "no sequence-to-sequence reference yet",
    "seq2seq": "no sequence-to-sequence reference yet", "peekydecoder": "no sequence-to-sequence reference yet",
    "peekyseq2seq": "no sequence-to-sequence reference yet",
    "attentionencoder": "no sequence-to-sequence reference yet", "attentiondecoder": "no sequence-to-sequence reference yet",
    "attentionseq2seq": "no sequence-to-sequence reference yet",
    "positionalencoding": "a PyTorch module: verify judges NumPy code",
    "multiheadattention": "a PyTorch module: verify judges NumPy code",
}
NOT_RECOGNISED = "not recognised by name"
STEP_OF = {"rnn": "rnn-step", "lstm": "lstm-step", "gru": "gru-step"}
COMPOSITE = ("a sandwich of layers ({}) with no reference of its own: its parts are judged one by one, and the "
             "network that uses it")


@dataclass
class Found:
    """One object to judge: its name in the file, the pair, the object (or its adapter), and other
    pairs to try when the first cannot run it (a recurrent class whose forward does not say whether it
    is one step or a sequence)."""

    name: str
    pair: object
    obj: object
    alternatives: list = field(default_factory=list)


def normal(name: str) -> str:
    return name.lower().replace("_", "")


def _by_name() -> dict:
    out = {}
    for pair in pairs.PAIRS.values():
        for n in pair.names:
            out.setdefault(normal(n), []).append(pair)
    return out


def recurrent_form(cls) -> str | None:
    """``"step"`` when a recurrent class's forward takes one step (``forward(x, h_prev)``), ``"sequence"``
    when a whole sequence (``forward(xs)``, ``forward(xs, h0)``), None when its names do not say."""
    params = [n for n in (parameters(getattr(cls, "forward", None)) or {}) if n != "self"]
    if not params:
        return None
    if any("prev" in n for n in params):
        return "step"
    if len(params) == 1 or params[0] in ("xs", "x_seq", "inputs", "sequence") or any(n in ("h0", "c0") for n in params):
        return "sequence"
    return None


def interface_problem(pair, obj) -> str | None:
    """Why ``obj`` cannot be of ``pair``'s interface (the methods it lacks), or None."""
    if not inspect.isclass(obj):
        return None
    if pair.kind == "layer":
        wanted = pair.options.get("methods", ("forward", "backward"))
    elif pair.kind == "optimizer":
        wanted = ("update",)
    elif pair.kind == "network":
        ok = callable(getattr(obj, "loss", None)) or callable(getattr(obj, "gradient", None)) or (
            callable(getattr(obj, "forward", None)) and callable(getattr(obj, "backward", None)))
        return None if ok else "it has neither loss(x, t) nor forward/backward"
    else:
        return None
    missing = [m for m in wanted if not callable(getattr(obj, m, None))]
    if not missing:
        return None
    has = sorted(k for k in dir(obj) if not k.startswith("_") and callable(getattr(obj, k, None)))
    return f"it has no {' and no '.join(missing)} method (its methods: {', '.join(has) or 'none'})"


def skipped_for_interface(pair, problem: str) -> str:
    return f"recognised as {pair.kind} {pair.id}, whose reference expects {pair.interface}; but {problem}"


def _couples(own) -> tuple[list, set]:
    found, used = [], set()
    for name, obj in own.items():
        m = _FORWARD.fullmatch(name)
        if not m:
            continue
        for extra in BACKWARD_SUFFIXES:
            backward = f"{m['stem']}_backward{extra}{m['suffix'] or ''}"
            if backward not in own:
                continue
            made = adapter(normal(m["stem"]), obj, own[backward])
            if made:
                pid, cls = made
                found.append(Found(f"{name}/{backward}", pairs.get("layer", pid), cls))
                used |= {name, backward}
    return found, used


def _composite(name: str, own) -> str | None:
    """``affine_relu_forward`` and the like: a couple whose stem is made of known stems."""
    from .pairs.functional import ADAPTERS

    m = _FORWARD.fullmatch(name) or re.fullmatch(r"(?P<stem>.+)_backward(?P<suffix>.*)", name)
    if not m:
        return None
    parts = m["stem"].split("_")
    known = [p for p in parts if p in ADAPTERS or p in ("pool", "norm")]
    return COMPOSITE.format(", ".join(parts)) if len(parts) > 1 and len(known) == len(parts) else None


def kinds_for(obj) -> tuple:
    """The kinds of reference an object can be: a class a layer, optimizer, schedule or network;
    a function a function, loss, schedule or initializer."""
    if inspect.isclass(obj):
        return ("layer", "optimizer", "schedule", "network")
    return ("function", "loss", "schedule", "initializer")


def recognise(module) -> tuple[list, list]:
    """What a module defines that has a reference: ([Found], [(name, reason)])."""
    own = {k: v for k, v in vars(module).items()
           if not k.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
           and getattr(v, "__module__", None) == module.__name__}
    found, used = _couples(own)
    skipped = []
    by_name = _by_name()
    for name, obj in own.items():
        if name in used:
            continue
        if inspect.isfunction(obj):
            rule = rule_optimizer(name, obj)
            if rule:
                found.append(Found(name, pairs.get("optimizer", rule[0]), rule[1]))
                continue
        wanted = kinds_for(obj)
        key = normal(name)
        match = [p for p in by_name.get(key, by_name.get(key.removeprefix("simple"), [])) if p.kind in wanted]
        if not match:
            reason = (NO_COUNTERPART.get(key) or ("no PyTorch counterpart" if key in NO_COUNTERPART_FUNCTIONS else None)
                      or NOT_YET.get(key) or _composite(name, own) or NOT_RECOGNISED)
            skipped.append((name, reason))
            continue
        pair, alternatives = match[0], []
        step = STEP_OF.get(pair.id)
        if step and inspect.isclass(obj):
            form = recurrent_form(obj)
            if form == "step":
                pair = pairs.get("layer", step)
            elif form is None:
                alternatives = [pairs.get("layer", step)]
        problem = interface_problem(pair, obj)
        if problem:
            skipped.append((name, skipped_for_interface(pair, problem)))
            continue
        found.append(Found(name, pair, obj, alternatives))
    return found, skipped


def pair_for(kind: str | None, name: str, obj):
    """The reference ``verify [KIND] FILE:NAME`` means without ``--against``: the one its name (or its
    calling style) determines, within ``kind`` when given, else the kind's only reference."""
    if isinstance(obj, tuple):  # a forward/backward couple
        stem = _FORWARD.fullmatch(getattr(obj[0], "__name__", ""))
        made = stem and adapter(normal(stem["stem"]), *obj)
        if not made:
            raise pairs.VerifyUsageError(f"{name}: no reference for this forward/backward couple; give --against")
        return pairs.get("layer", made[0]), made[1]
    if inspect.isfunction(obj):
        rule = rule_optimizer(name.rpartition("/")[-1], obj)
        if rule and kind in (None, "optimizer"):
            return pairs.get("optimizer", rule[0]), rule[1]
    kinds = (pairs.kind_of(kind),) if kind else pairs.KINDS
    fits = kinds_for(obj)  # a class named Relu is the ReLU layer, a function relu the function
    match = sorted((p for p in _by_name().get(normal(name), []) if p.kind in kinds), key=lambda p: p.kind not in fits)
    if match:
        pair = match[0]
        if STEP_OF.get(pair.id) and inspect.isclass(obj) and recurrent_form(obj) == "step":
            pair = pairs.get("layer", STEP_OF[pair.id])
        return pair, obj
    if kind and len(pairs.of_kind(pairs.kind_of(kind))) == 1:
        return pairs.of_kind(pairs.kind_of(kind))[0], obj
    if kind == "network":
        return pairs.get("network", "mlp"), obj
    where = f"{kind} " if kind else ""
    raise pairs.VerifyUsageError(f"no {where}reference is named like {name!r}: give --against (see --list)")
