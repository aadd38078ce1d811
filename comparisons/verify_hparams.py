"""The hyperparameters ``verify`` is given (``--hparam key=value``, or a dict in Python): parsed,
checked against a declaration's names and bounds, and shared out among the objects of a file."""

from __future__ import annotations

import difflib

from .pairs import VerifyUsageError


def parse_hparams(pairs_) -> dict:
    """``["lr=0.01", "activation=sigmoid", "Adam.eps=1e-7"]`` → {"lr": 0.01, "activation": "sigmoid",
    "Adam.eps": 1e-07} (a key ``OBJECT.name`` applies to that object of a whole file only)."""
    out = {}
    for pair in pairs_ or []:
        if "=" not in pair:
            raise VerifyUsageError(f"--hparam takes key=value, got {pair!r}")
        key, value = (s.strip() for s in pair.split("=", 1))
        try:
            out[key] = int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            if not value.replace("_", "").isalpha():
                raise VerifyUsageError(f"--hparam {key}: {value!r} is neither a number nor a name") from None
            out[key] = value
    return out


def check_hparams(pair, given: dict) -> dict:
    """Given names → scratch names; unknown names and values outside a choice are usage errors.
    A hyperparameter's own name beats its alias: with ``delta=1e-7 eps=1e-6`` given to a whole
    file, the book's SoftmaxWithLoss takes δ = 1e-7 and its BatchNormalization ε = 1e-6."""
    out = {}
    for key, value in given.items():
        hp = pair.hparam(key)
        if hp is not None and key != hp.name and hp.name in given:
            continue  # an alias, and the name itself is given too
        if hp is None:
            known = [h.name for h in pair.hparams]
            close_ = difflib.get_close_matches(key, [n for h in pair.hparams for n in h.names()], n=1)
            raise VerifyUsageError(f"{pair.kind} {pair.id} takes the hyperparameters {known}; unknown: {key!r}"
                                   + (f" (did you mean {close_[0]!r}?)" if close_ else ""))
        problem = hp.problem(value)
        if problem:
            raise VerifyUsageError(f"--hparam {key} {problem} for {pair.kind} {pair.id}, got {value!r}")
        out[hp.name] = value
    return out


def hparams_for(name: str, given: dict) -> dict:
    """The --hparam values for one object of a file: ``key=v`` for every object whose reference
    takes it, ``NAME.key=v`` for the object NAME only."""
    out = {k: v for k, v in given.items() if "." not in k}
    out.update({k.partition(".")[2]: v for k, v in given.items() if k.partition(".")[0] in (name, name.partition("/")[0])})
    return out
