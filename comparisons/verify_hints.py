"""Why the user's numbers differ: the catalogue first (a convention whose flags make the reference
agree, a catalogued mistake whose numbers the user's match), then a general search for the relation
between the user's tensor and the reference's (:mod:`comparisons.relations`). Nothing is named
unless it explains the numbers at a second, different point too: another seed, and the
hyperparameters the user's code takes moved (lr = 0.1 = 1 − μ must not make two mistakes look
alike)."""

from __future__ import annotations

import itertools

import numpy as np

from . import pairs, relations, seeding
from .checks import close
from .context import ConceptContext, RunOptions, not_real
from .pairs import DriveOptions, TargetError, VerifyUsageError
from .pairs._base import CONSTRUCTED, is_real, parameters


HINT_STEPS = 20  # the steps of a training comparison while a hint is searched for


class Trials:
    """Runs of one pair's driver on the object under test (or on a catalogued mistake), at the
    judged dtype and steps, from the seed given (or another)."""

    def __init__(self, pair, obj, dtype: str, seed: int, steps: int):
        self.pair, self.obj, self.dtype, self.seed, self.steps = pair, obj, dtype, seed, steps

    def context(self, seed=None):
        return ConceptContext(f"verify {self.pair.kind} {self.pair.id}", RunOptions(seed=self.seed if seed is None else seed),
                              self.dtype, None)

    def drive(self, hparams, obj=None, seed=None, explicit=(), reference=None, every=False):
        """The driver's comparisons and notes; those on NaN and ±inf inputs only with ``every`` (a
        verdict and its hints are made of the others). PyTorch rejecting a value given explicitly
        is a usage error; failing on what the code returned, the code's error."""
        run = DriveOptions(steps=self.steps, explicit=set(explicit), reference=dict(reference or {}))
        ctx = self.context(seed)
        CONSTRUCTED.clear()
        seeding.seed_globals(ctx.seed, ctx.concept)  # the user's own draws (np.random, a dropout mask): the same every time
        try:
            comparisons = pairs.compare(ctx, self.pair, self.obj if obj is None else obj, hparams, run)
        except (TargetError, VerifyUsageError):
            raise
        except (ValueError, RuntimeError) as exc:  # raised on the torch side
            line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if explicit:
                shown = " ".join(f"--hparam {k}={hparams[k]}" for k in explicit if k in hparams)
                raise VerifyUsageError(f"PyTorch rejects {shown}: {line}") from None
            raise TargetError(f"PyTorch could not be run beside what your code returned ({type(exc).__name__}: "
                              f"{line})") from None
        return (comparisons if every else [c for c in comparisons if not c.nonfinite]), list(dict.fromkeys(run.notes))

    def records(self, comparisons, seed=None):
        return pairs.record(self.context(seed), comparisons)

    def passes(self, comparisons, seed=None) -> bool:
        return all(r.passed for r in self.records(comparisons, seed))

    def agrees(self, hparams, obj=None, seed=None, reference=None) -> bool:
        try:
            trial, _ = self.drive(hparams, obj, seed, reference=reference)
        except (TargetError, VerifyUsageError):
            return False
        return self.passes(trial, seed)

    def tolerance(self, kind="exact"):
        return self.context().tolerance(kind)


def takes(obj, names) -> bool:
    params = parameters(obj)
    return params is None or any(n in params for n in names)  # a **kwargs signature may take anything


def second_point(trials: Trials, obj, hparams: dict) -> tuple[int, dict]:
    """Another seed, and the numeric hyperparameters that ``obj`` takes moved: a learning rate halved,
    a rate in (0, 1) towards 1 or 0 (0.9 → 0.94, 0.5 → 0.7, 0.1 → 0.06; lr = 0.1 = 1 − μ becomes 0.05 and
    0.06); ε-like values, integers, choices and what ``obj`` does not take stay."""
    moved = dict(hparams)
    for hp in trials.pair.hparams:
        v = hparams.get(hp.name)
        if hp.choices is not None or isinstance(v, bool) or not isinstance(v, float) or not takes(obj, hp.names()):
            continue
        if 0 < v < 1e-3 or v == 0:
            continue
        moved[hp.name] = v * 0.5 if v >= 1 or hp.name == "lr" else (1 - (1 - v) * 0.6 if v >= 0.5 else v * 0.6)
    return trials.seed + 1, moved


def _same_numbers(ours, theirs, atol, rtol) -> bool:
    by_label = {(c.label, c.quantity): c for c in theirs}
    if not ours or any((c.label, c.quantity) not in by_label for c in ours):
        return False
    for a in ours:
        b = by_label[(a.label, a.quantity)]
        if a.kind == "statistical" and a.hint_value is None:  # two samples: equal within both bounds
            if abs(float(a.actual) - float(b.actual)) > a.tol + b.tol:
                return False
            continue
        x, y = (np.asarray(v.detach().cpu() if hasattr(v, "detach") else v, dtype=float)
                for v in (a.matchable(), b.matchable()))
        if x.shape != y.shape or not np.all(close(x, y, atol, rtol)):
            return False
    return True


def dtype_hint(comparisons) -> str | None:
    """A result that is not real numbers (complex, Python objects, text), named with its dtype."""
    bad = next((c for c in comparisons if c.kind != "statistical" and not is_real(c.actual)), None)
    if bad is None:
        return None
    a = np.asarray(bad.actual)
    why = {"c": "a complex value entered the computation (a j literal, np.sqrt or np.log of a complex array, np.fft…); "
                "the result must be real: cast to real numbers, its imaginary part would be dropped in silence",
           "O": "an array of Python objects: an element is not a number (None, a list, an array of another shape)",
           "U": "text, not numbers", "S": "bytes, not numbers"}.get(a.dtype.kind, "not numbers")
    expected = _array(bad.expected)
    return f"{bad.label}: your result is {not_real(a)}, where PyTorch's is {expected.dtype}: {why}"


SECOND_CALL = " (second call)"


def _passes(trials, c) -> bool:
    """Whether one comparison passes, as its record would (a statistical one within its bound)."""
    if c.kind == "statistical":
        return abs(float(c.actual) - float(c.expected)) <= c.tol
    return not _fails(c, _tol(trials, c))


def _depends_on_earlier_calls(trials, comparisons) -> list:
    """The comparisons of second calls that fail where every first call passes (else none)."""
    firsts = [c for c in comparisons if not c.again]
    seconds = [c for c in comparisons if c.again]
    if not seconds or not all(_passes(trials, c) for c in firsts):
        return []
    return [c for c in seconds if not _passes(trials, c)]


def _accumulated(trials, first, second) -> bool:
    """Whether the second call's result is the first call's plus the right one (``dW += …``)."""
    a1, a2, e2 = _array(first.actual), _array(second.actual), _array(second.expected)
    if not (a1.shape == a2.shape == e2.shape) or not np.any(a1):
        return False
    tol = _tol(trials, second)
    scale = np.abs(a1) + np.abs(e2)
    return bool(np.all(close(a2, a1 + e2, *tol, scale)) and not np.all(close(a2, a1, *tol, scale)))


def state_hint(trials: Trials, hparams: dict, comparisons) -> str | None:
    """A layer whose second call differs where every first call agrees: its results depend on an
    earlier call. Named as gradients accumulated across calls when the second call's gradient is
    the first's plus the right one, else as a mask or a cache kept from an earlier call; the same
    pattern must hold at a second point (another seed)."""
    failing = _depends_on_earlier_calls(trials, comparisons)
    if not failing:
        return None
    seed2, hparams2 = second_point(trials, trials.obj, hparams)
    try:
        again, _ = trials.drive(hparams2, seed=seed2)
    except (TargetError, VerifyUsageError):
        return None
    if not _depends_on_earlier_calls(trials, again):
        return None
    firsts = {c.label: c for c in comparisons if not c.again}
    summed = [c for c in failing if c.label.endswith(SECOND_CALL)
              and _accumulated(trials, firsts.get(c.label[:-len(SECOND_CALL)], c), c)]
    forward = [c for c in failing if "forward" in c.label or "loss" in c.label]
    head = (f"your results depend on earlier calls: a new object agrees with PyTorch, but the same object called "
            f"again, on other inputs of the same shapes, differs ('{failing[0].label}' first)")
    if summed:
        return (f"{head}. Your numbers match a known mistake: gradients accumulated across calls — "
                f"'{summed[0].label}' is the first call's plus the right one (dW += … where dW = … is meant); a "
                "backward must overwrite the gradients it keeps (PyTorch's optimizer.zero_grad() clears them before "
                "each backward)")
    if forward:
        return (f"{head}. Your numbers match a known mistake: a mask or a cache kept from an earlier call — the second "
                "forward still uses what the first computed from its own x (`if self.mask is None: …` keeps the first "
                "one); compute it from x in every forward")
    return (f"{head}, while its forward agrees. Your numbers match a known mistake: backward uses a mask or a cache "
            "kept from an earlier call — store what backward needs in every forward, not only in the first")


def find_hint(trials: Trials, hparams: dict, comparisons) -> str | None:
    """A result that is not real numbers (its dtype named); a result that depends on an earlier
    call (:func:`state_hint`); a convention (the reference under the catalogued flags agrees: the
    hint names the flags), a catalogued mistake (the user's numbers are what it computes), or a
    relation; each holding at a second point too."""
    found = dtype_hint(comparisons) or state_hint(trials, hparams, comparisons)
    if found:
        return found
    if trials.steps > HINT_STEPS:  # the search runs the driver many times: on a shorter run, the user's code too
        trials = Trials(trials.pair, trials.obj, trials.dtype, trials.seed, HINT_STEPS)
        try:
            comparisons, _ = trials.drive(hparams)
        except (TargetError, VerifyUsageError):
            return None
        if trials.passes(comparisons):
            return None  # it parts only after the first steps: nothing below explains a later parting
    pair, obj = trials.pair, trials.obj
    seed2, hparams2 = second_point(trials, obj, hparams)
    conventions = [m for m in pair.mistakes if m.is_convention
                   and not takes(obj, [n for k in m.flag for n in pair.hparam(k).names()])]
    for size in range(1, min(3, len(conventions)) + 1):
        for combo in itertools.combinations(conventions, size):
            flag = {k: v for m in combo for k, v in m.flag.items()}
            if any(hparams.get(k) == v for k, v in flag.items()):
                continue
            if trials.agrees({**hparams, **flag}) and trials.agrees({**hparams2, **flag}, seed=seed2):
                what = "; ".join(m.hint for m in combo)
                flags = " ".join(m.flag_text() for m in combo)
                return f"a convention, not a mistake: {what}. With {flags} the verdict is AGREES"
    found = _reference_only_hint(trials, hparams, conventions)
    if found:
        return found
    atol, rtol = trials.tolerance("trained")
    ours2 = None
    for m in pair.mistakes:
        if m.wrong is None:
            continue
        try:
            wrong, _ = trials.drive(hparams, m.wrong)
        except (TargetError, VerifyUsageError):
            continue
        if trials.passes(wrong):
            continue  # the mistake is below this dtype's resolution: it cannot tell anything apart
        if not _same_numbers(comparisons, wrong, atol, rtol):
            continue
        try:
            ours2 = ours2 or trials.drive(hparams2, seed=seed2)[0]
            wrong2, _ = trials.drive(hparams2, m.wrong, seed=seed2)
        except (TargetError, VerifyUsageError):
            continue
        if _same_numbers(ours2, wrong2, atol, rtol):
            return f"your numbers match a known mistake: {m.hint}" if not m.is_convention else \
                f"a convention, not a mistake: {m.hint}. With {m.flag_text()} the verdict is AGREES"
    return relation_hint(trials, hparams, comparisons, (seed2, hparams2))


def _reference_only_hint(trials: Trials, hparams, conventions) -> str | None:
    """For a hyperparameter the user's constructor takes but may not honour (a network's
    ``activation``): each other choice on the PyTorch side alone, with up to two of the other
    conventions. A match is named with the flag that makes it agree, or, when the user's own
    constructor given that value still differs, as a mix-up of names."""
    pair, obj = trials.pair, trials.obj
    for name in pair.options.get("reference_only", ()):
        hp = pair.hparam(name)
        if hp is None or not hp.choices or not takes(obj, hp.names()):
            continue
        others = [m for m in conventions if name not in m.flag]
        for value in (v for v in hp.choices if v != hparams.get(name)):
            for size in range(0, min(2, len(others)) + 1):
                for combo in itertools.combinations(others, size):
                    flag = {k: v for m in combo for k, v in m.flag.items()}
                    if not trials.agrees({**hparams, **flag}, reference={name: value}):
                        continue
                    also = "".join(f"; and {m.hint}" for m in combo)
                    fix = " ".join([f"--hparam {name}={value}", *(m.flag_text() for m in combo)])
                    if trials.agrees({**hparams, **flag, name: value}):
                        return (f"your gradients match {name}={value!r}, though it was built with {name}={hparams.get(name)!r}"
                                f"{also}. With {fix} the verdict is AGREES")
                    return (f"built with {name}={hparams.get(name)!r}, your {pair.kind} computes what PyTorch computes with "
                            f"{name}={value!r}{also}, and built with {name}={value!r} it still differs: check which "
                            f"layer each {name} name makes")
    return None


# --- the general search --------------------------------------------------------------------------


def _array(v):
    return np.asarray(v.detach().cpu() if hasattr(v, "detach") else v, dtype=np.float64)


def _fails(c, tol) -> bool:
    a, e = _array(c.actual), _array(c.expected)
    return a.shape != e.shape or not np.all(close(a, e, *tol, c.scale if c.kind != "lockstep" else None))


def _tol(trials, c):
    return trials.tolerance(c.kind if c.kind in ("trained", "gradcheck") else "exact")  # lockstep: one step, exact


def _case(label: str) -> str:
    return label.rpartition(", ")[2]


def constants(c, comparisons, hparams) -> list:
    """Named constants a factor may be: the case's batch size N (its time steps T, N·T) and the
    numeric hyperparameters (and 1 − each rate)."""
    out = []
    same_case = [d for d in comparisons if _case(d.label) == _case(c.label)] or [c]
    shapes = [np.shape(_array(d.expected)) for d in same_case if "forward" in d.label or "dx" in d.label] or \
        [np.shape(_array(c.expected))]
    shape = max(shapes, key=len)
    if len(shape) >= 1 and shape[0] > 1:
        out.append(("N", float(shape[0])))
    if len(shape) >= 3 and shape[1] > 1:
        out += [("T", float(shape[1])), ("N·T", float(shape[0] * shape[1]))]
    for k, v in hparams.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v not in (0, 1):
            out.append((k, float(v)))
            if 0 < v < 1:
                out.append((f"1 − {k}", 1 - float(v)))
    return out


def _explain(trials, c, comparisons, hparams):
    tol = _tol(trials, c)
    context = dict(c.context or {})
    context["constants"] = constants(c, comparisons, hparams)
    context.setdefault("steps", c.kind == "lockstep")
    return relations.explain(_array(c.actual), _array(c.expected), tol, context,
                             None if c.kind == "lockstep" else c.scale)


def _where(c, comparisons, tol) -> str:
    what = c.label if not c.quantity else f"{c.label}: {c.quantity}"
    earlier = [d for d in comparisons if d is not c and _case(d.label) == _case(c.label)]
    if c.kind == "lockstep":
        bad = ~close(_array(c.actual), _array(c.expected), *tol)
        rows = np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))
        what += f" (step {int(rows[0])} first)" if rows.size else ""
    elif "backward" in c.label and any("forward" in d.label for d in earlier):
        what += " (the forward agrees)"
    return what


def relation_hint(trials: Trials, hparams, comparisons, point2) -> str | None:
    """The relation between the first quantity that parts and its reference, when one explains it
    exactly here and at the second point."""
    first = next((c for c in comparisons if c.kind in ("exact", "lockstep", "trained", "gradcheck")
                  and _fails(c, _tol(trials, c))), None)
    if first is None:
        return None
    found = _explain(trials, first, comparisons, hparams)
    if found is None:
        return None
    seed2, hparams2 = point2
    try:
        again, _ = trials.drive(hparams2, seed=seed2)
    except (TargetError, VerifyUsageError):
        return None
    twin = next((c for c in again if (c.label, c.quantity) == (first.label, first.quantity)), None)
    if twin is None or not _fails(twin, _tol(trials, twin)):
        return None
    found2 = _explain(trials, twin, again, hparams2)
    key = found2 and relations.same(found.key, found2.key)
    if key is None:
        return None
    text = relations.describe(key, found.value) if key != found.key else found.text
    return (f"{_where(first, comparisons, _tol(trials, first))} parts first: {text}; it holds at a second point "
            f"too (seed {seed2}). {relations.show(_array(first.actual), _array(first.expected))}")
