"""Verify your own NumPy code against PyTorch: ``python -m comparisons verify`` and its Python API.

    python -m comparisons verify common/layers.py                 # every object it recognises
    python -m comparisons verify layer my_layers.py:Relu --against relu
    python -m comparisons verify optimizer my_adam.py:Adam --against adam --hparam lr=0.01
    python -m comparisons verify --list

This module is a thin front: what is compared, how, and which mistakes are known lives in the
declarations of :mod:`comparisons.pairs`. Here: loading the user's code, running a declaration's
driver on it (under a time limit), recording the checks, looking for a hint when they differ,
and printing the verdict.
"""

from __future__ import annotations

import difflib
import html
import importlib
import importlib.util
import inspect
import itertools
import re
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import threadpoolctl
import torch

from . import pairs, seeding
from .checks import close
from .context import ConceptContext, RunOptions
from .pairs import DriveOptions, TargetError, VerifyUsageError
from .pairs._base import user_defaults
from .pairs.functional import adapter

KINDS = pairs.KINDS
DEFAULT_TIMEOUT = 60.0  # seconds per object


class TargetTimeout(BaseException):
    """Raised by the watchdog inside the code under test (a BaseException, so the code's own
    ``except Exception`` does not swallow it)."""


@dataclass
class VerifyResult:
    """The verdict on one object: ``agrees``, ``differs`` or ``error`` (it raised, exited or timed
    out), the checks behind it, a hint, and notes."""

    kind: str
    target: str
    against: str
    records: list
    hint: str | None
    notes: list
    error: str | None = None
    hparams: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.records) and all(r.passed for r in self.records)

    @property
    def verdict(self) -> str:
        return "error" if self.error else "agrees" if self.passed else "differs"

    @property
    def first_failure(self):
        return next((r for r in self.records if not r.passed), None)

    def worst(self) -> tuple:
        """(max_abs_err, max_rel_err) over the checks, ignoring those without numbers."""
        compared = [r for r in self.records if r.kind in ("exact", "trained", "gradcheck", "lockstep")]
        abs_errs = [r.max_abs_err for r in compared if isinstance(r.max_abs_err, float)]
        rel_errs = [r.max_rel_err for r in compared if isinstance(r.max_rel_err, float)]
        return (max(abs_errs) if abs_errs else None, max(rel_errs) if rel_errs else None)

    def to_dict(self) -> dict:
        worst_abs, worst_rel = self.worst()
        return {"name": self.target, "kind": self.kind, "against": self.against, "verdict": self.verdict,
                "hint": self.hint or self.error, "worst_abs_err": _json_number(worst_abs),
                "worst_rel_err": _json_number(worst_rel), "hparams": self.hparams, "notes": self.notes,
                "checks": [r.to_dict() for r in self.records]}

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(r.check)}</td><td>{'yes' if r.passed else '<b>NO</b>'}</td>"
                       f"<td>{_num(r.max_abs_err)}</td><td>{_num(r.max_rel_err)}</td></tr>" for r in self.records)
        extra = "".join(f"<p>{html.escape(line)}</p>" for line in filter(None, [self.error, self.hint and
                                                                                f"hint: {self.hint}", *self.notes]))
        return (f"<p><b>{self.verdict.upper()}</b>: {html.escape(self.kind)} {html.escape(self.target)} against "
                f"{html.escape(self.against)} (PyTorch)</p><table><tr><th>check</th><th>passed</th>"
                f"<th>max_abs_err</th><th>max_rel_err</th></tr>{rows}</table>{extra}")


def _json_number(x):
    return None if x is None else (x if np.isfinite(x) else str(x))


def _num(x):
    return f"{x:.1e}" if isinstance(x, float) else "-"


# --- loading the user's code ----------------------------------------------------------------------


def load_module(path_or_name: str):
    """Import a .py file (with the current folder and the file's own folder importable, as
    ``python FILE.py`` would have them) or a dotted module."""
    path = Path(path_or_name)
    is_file = path_or_name.endswith(".py") or "/" in path_or_name or path.is_file()
    if is_file and not path.is_file():
        raise VerifyUsageError(f"no such file: {path}")
    extra = [str(Path.cwd()), str(path.resolve().parent)] if is_file else [str(Path.cwd())]
    added = [p for p in extra if p not in sys.path]
    sys.path[:0] = added
    try:
        if not is_file:
            return importlib.import_module(path_or_name)
        name = f"_verify_{path.stem}_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    except SystemExit as exc:
        raise VerifyUsageError(f"importing {path_or_name!r} called sys.exit({exc.code!r})") from None
    except Exception as exc:
        raise VerifyUsageError(f"cannot import {path_or_name!r}: {type(exc).__name__}: {exc}") from None
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)


def load_target(spec: str):
    """``module:name`` (a dotted module or a path to a .py file) → the object."""
    if ":" not in spec:
        raise VerifyUsageError(f"target must be MODULE:NAME (e.g. my_adam.py:Adam or mypkg.optim:Adam), got {spec!r}")
    module_part, _, name = spec.rpartition(":")
    module = load_module(module_part)
    if not hasattr(module, name):
        public = sorted(k for k in vars(module) if not k.startswith("_"))
        raise VerifyUsageError(f"{module_part!r} has no attribute {name!r}; it defines {public}")
    return getattr(module, name)


def parse_hparams(pairs_) -> dict:
    """``["lr=0.01", "activation=sigmoid"]`` → {"lr": 0.01, "activation": "sigmoid"}."""
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


def _check_hparams(pair, given: dict) -> dict:
    """Given names → scratch names; unknown names and values outside a choice are usage errors."""
    out = {}
    for key, value in given.items():
        hp = pair.hparam(key)
        if hp is None:
            known = [h.name for h in pair.hparams]
            close_ = difflib.get_close_matches(key, [n for h in pair.hparams for n in h.names()], n=1)
            raise VerifyUsageError(f"{pair.kind} {pair.id} takes the hyperparameters {known}; unknown: {key!r}"
                                   + (f" (did you mean {close_[0]!r}?)" if close_ else ""))
        if hp.choices is not None and value not in hp.choices:
            raise VerifyUsageError(f"--hparam {key} must be one of {list(hp.choices)}, got {value!r}")
        if hp.choices is None and isinstance(hp.default, (int, float)) and not isinstance(value, (int, float)):
            raise VerifyUsageError(f"--hparam {key} must be a number, got {value!r}")
        out[hp.name] = value
    return out


# --- judging one object ---------------------------------------------------------------------------


@contextmanager
def time_limit(seconds, what: str):
    """Raise :class:`TargetTimeout` in the main thread after ``seconds`` (no limit elsewhere)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def on_alarm(signum, frame):
        raise TargetTimeout(f"{what} ran past the time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def configure_cpu() -> None:
    """``runner.configure_torch('cpu')`` without ``use_deterministic_algorithms``: verify runs on the
    CPU only, where the kernels it uses are deterministic, and that switch imports torch's compiler
    (seconds, for a one-object check). One thread per library, as the comparisons run."""
    threadpoolctl.threadpool_limits(1)
    torch.set_num_threads(1)


def _context(pair, dtype, seed):
    return ConceptContext(f"verify {pair.kind} {pair.id}", RunOptions(seed=seed), dtype, None)


def _drive(pair, obj, hparams, dtype, seed, steps, explicit=(), reference=None):
    """Run the pair's driver on ``obj``: (comparisons, notes). PyTorch rejecting a value is a usage
    error. ``reference``: hyperparameters given to the PyTorch side only."""
    run = DriveOptions(steps=steps, explicit=set(explicit), reference=dict(reference or {}))
    ctx = _context(pair, dtype, seed)
    seeding.seed_globals(seed, ctx.concept)  # the user's own draws (np.random, a dropout mask): the same every time
    try:
        comparisons = pairs.compare(ctx, pair, obj, hparams, run)
    except (TargetError, VerifyUsageError):
        raise
    except (ValueError, RuntimeError) as exc:  # raised on the torch side: e.g. lr=-1, p=1.5
        shown = ", ".join(f"{k}={v}" for k, v in hparams.items())
        raise VerifyUsageError(f"PyTorch rejects these hyperparameters ({shown}): {str(exc).splitlines()[0]}") from None
    return comparisons, list(dict.fromkeys(run.notes))


def _record(ctx, comparisons):
    return pairs.record(ctx, comparisons)


def _check_reference_finite(comparisons, hparams):
    for c in comparisons:
        expected = np.asarray(c.expected.detach().cpu() if hasattr(c.expected, "detach") else c.expected, dtype=float)
        if not np.all(np.isfinite(expected)):
            shown = ", ".join(f"{k}={v}" for k, v in hparams.items()) or "the defaults"
            raise VerifyUsageError(f"the PyTorch reference is not finite in '{c.label}' with {shown}: "
                                   "check the hyperparameters")


def judge(pair, obj, name: str, given: dict | None = None, dtype: str = "float64", seed: int = 0, steps: int = 100,
          timeout: float | None = DEFAULT_TIMEOUT) -> VerifyResult:
    """Compare ``obj`` with the pair's PyTorch reference; look for a hint when they differ."""
    if seed < 0:
        raise VerifyUsageError(f"--seed must be >= 0, got {seed}")
    if steps < 1:
        raise VerifyUsageError(f"--steps must be >= 1, got {steps}")
    given = _check_hparams(pair, given or {})
    hparams = {**pair.defaults(), **user_defaults(obj, pair), **given}
    configure_cpu()
    result = VerifyResult(pair.kind, name, pair.id, [], None, [], hparams=hparams)
    try:
        with time_limit(timeout, name):
            comparisons, result.notes = _drive(pair, obj, hparams, dtype, seed, steps, given)
            _check_reference_finite(comparisons, hparams)
            result.records = _record(_context(pair, dtype, seed), comparisons)
            if not result.passed:
                result.hint = find_hint(pair, obj, hparams, dtype, seed, steps, comparisons)
    except TargetError as exc:
        result.error = str(exc)
    except TargetTimeout as exc:
        result.error = str(exc)
    return result


def _takes(obj, names) -> bool:
    from .pairs._base import parameters

    params = parameters(obj)
    return params is None or any(n in params for n in names)  # a **kwargs signature may take anything


def find_hint(pair, obj, hparams, dtype, seed, steps, comparisons) -> str | None:
    """A convention (the reference under the catalogued flags agrees with the user's numbers: the
    hint names the flags) or a catalogued mistake (the user's numbers match what the mistaken
    implementation computes)."""
    conventions = [m for m in pair.mistakes if m.is_convention
                   and not _takes(obj, [n for k in m.flag for n in pair.hparam(k).names()])]
    for size in range(1, min(3, len(conventions)) + 1):
        for combo in itertools.combinations(conventions, size):
            flag = {k: v for m in combo for k, v in m.flag.items()}
            if any(hparams.get(k) == v for k, v in flag.items()):
                continue
            try:
                trial, _ = _drive(pair, obj, {**hparams, **flag}, dtype, seed, steps)
            except (TargetError, VerifyUsageError):
                continue
            if all(r.passed for r in _record(_context(pair, dtype, seed), trial)):
                what = "; ".join(m.hint for m in combo)
                flags = " ".join(m.flag_text() for m in combo)
                return f"a convention, not a mistake: {what}. With {flags} the verdict is AGREES"
    found = _reference_only_hint(pair, obj, hparams, dtype, seed, steps, conventions)
    if found:
        return found
    atol, rtol = _context(pair, dtype, seed).tolerance("trained")
    for m in pair.mistakes:
        if m.wrong is None:
            continue
        try:
            wrong, _ = _drive(pair, m.wrong, hparams, dtype, seed, steps)
        except (TargetError, VerifyUsageError):
            continue
        if all(r.passed for r in _record(_context(pair, dtype, seed), wrong)):
            continue  # the mistake is below this dtype's resolution: it cannot tell anything apart
        if _same_numbers(comparisons, wrong, atol, rtol):
            return f"your numbers match a known mistake: {m.hint}" if not m.is_convention else \
                f"a convention, not a mistake: {m.hint}. With {m.flag_text()} the verdict is AGREES"
    return None


def _agrees(pair, obj, hparams, dtype, seed, steps, reference=None) -> bool:
    try:
        trial, _ = _drive(pair, obj, hparams, dtype, seed, steps, reference=reference)
    except (TargetError, VerifyUsageError):
        return False
    return all(r.passed for r in _record(_context(pair, dtype, seed), trial))


def _reference_only_hint(pair, obj, hparams, dtype, seed, steps, conventions) -> str | None:
    """For a hyperparameter the user's constructor takes but may not honour (a network's
    ``activation``): each other choice on the PyTorch side alone, with up to two of the other
    conventions. A match is named with the flag that makes it agree, or, when the user's own
    constructor given that value still differs, as a mix-up of names."""
    for name in pair.options.get("reference_only", ()):
        hp = pair.hparam(name)
        if hp is None or not hp.choices or not _takes(obj, hp.names()):
            continue
        others = [m for m in conventions if name not in m.flag]
        for value in (v for v in hp.choices if v != hparams.get(name)):
            for size in range(0, min(2, len(others)) + 1):
                for combo in itertools.combinations(others, size):
                    flag = {k: v for m in combo for k, v in m.flag.items()}
                    if not _agrees(pair, obj, {**hparams, **flag}, dtype, seed, steps, reference={name: value}):
                        continue
                    also = "".join(f"; and {m.hint}" for m in combo)
                    fix = " ".join([f"--hparam {name}={value}", *(m.flag_text() for m in combo)])
                    if _agrees(pair, obj, {**hparams, **flag, name: value}, dtype, seed, steps):
                        return (f"your gradients match {name}={value!r}, though it was built with {name}={hparams.get(name)!r}"
                                f"{also}. With {fix} the verdict is AGREES")
                    return (f"built with {name}={hparams.get(name)!r}, your {pair.kind} computes what PyTorch computes with "
                            f"{name}={value!r}{also}, and built with {name}={value!r} it still differs: check which "
                            f"layer each {name} name makes")
    return None


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


def verify(kind: str, target, against: str, hparams: dict | None = None, dtype: str = "float64", seed: int = 0,
           steps: int = 100, timeout: float | None = DEFAULT_TIMEOUT) -> VerifyResult:
    """Compare ``target`` (an object, or a ``MODULE:NAME`` string) with the PyTorch reference
    ``against`` of ``kind``. Raises :class:`VerifyUsageError` when the target cannot be used."""
    pair = pairs.get(kind, against)
    name = target if isinstance(target, str) else getattr(target, "__qualname__", repr(target))
    obj = load_target(target) if isinstance(target, str) else target
    return judge(pair, obj, name, hparams, dtype, seed, steps, timeout)


def assert_agrees(kind: str, target, against: str, **kwargs) -> VerifyResult:
    """:func:`verify`, raising an AssertionError that carries the table and the hint unless it agrees."""
    result = verify(kind, target, against, **kwargs)
    if not result.passed:
        raise AssertionError("\n" + format_result(result))
    return result


# --- a whole file -----------------------------------------------------------------------------------

NOT_YET = {"temporalaffineforward": "no reference for CS231n's temporal layers yet",
           "temporalaffinebackward": "no reference for CS231n's temporal layers yet",
           "temporalsoftmaxloss": "no reference for CS231n's temporal layers yet",
           "svmloss": "no SVM-loss reference yet", "multilayernetextend": "no network reference with batch norm "
           "and dropout yet"}
# X_forward / X_backward, also CS231n's X_forward_naive / X_backward_naive and X_forward_fast / …
_FORWARD = re.compile(r"(?P<stem>.+)_forward(?P<suffix>_naive|_fast)?")


def _normal(name: str) -> str:
    return name.lower().replace("_", "")


def recognise(module) -> tuple[list, list]:
    """What a module defines that has a reference: ([(name, pair, object)], [(name, reason)])."""
    found, skipped = [], []
    own = {k: v for k, v in vars(module).items()
           if not k.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
           and getattr(v, "__module__", None) == module.__name__}
    by_name = {}
    for pair in pairs.PAIRS.values():
        for n in pair.names:
            by_name.setdefault(_normal(n), []).append(pair)
    used = set()
    for name, obj in own.items():
        m = _FORWARD.fullmatch(name)
        backward = m and f"{m['stem']}_backward{m['suffix'] or ''}"
        if m and backward in own:
            made = adapter(_normal(m["stem"]), obj, own[backward])
            if made:
                pid, cls = made
                found.append((f"{name}/{backward}", pairs.get("layer", pid), cls))
                used |= {name, backward}
    for name, obj in own.items():
        if name in used:
            continue
        wanted = ("layer", "optimizer", "schedule", "network") if inspect.isclass(obj) else \
            ("function", "loss", "schedule", "initializer")
        match = [p for p in by_name.get(_normal(name), []) if p.kind in wanted]
        if match:
            found.append((name, match[0], obj))
        else:
            skipped.append((name, NOT_YET.get(_normal(name), "not recognised by name")))
    return found, skipped


@dataclass
class FileResult:
    path: str
    results: list
    skipped: list

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def to_dict(self) -> dict:
        return {"file": self.path, "objects": [r.to_dict() for r in self.results]
                + [{"name": n, "kind": None, "against": None, "verdict": "skipped", "hint": why} for n, why in self.skipped]}

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in self.results)


def verify_file(path: str, dtype: str = "float64", seed: int = 0, steps: int = 100,
                timeout: float | None = DEFAULT_TIMEOUT, progress=None) -> FileResult:
    """Judge everything in ``path`` that has a reference, each by its own declaration."""
    module = load_module(path)
    found, skipped = recognise(module)
    results = []
    for name, pair, obj in found:
        try:
            results.append(judge(pair, obj, name, None, dtype, seed, steps, timeout))
        except VerifyUsageError as exc:
            results.append(VerifyResult(pair.kind, name, pair.id, [], None, [], error=f"cannot be used: {exc}"))
        if progress:
            progress(results[-1])
    return FileResult(path, results, skipped)


# --- text -----------------------------------------------------------------------------------------


def list_references() -> str:
    lines = []
    for kind in KINDS:
        lines.append(f"{kind}:")
        for pair in pairs.of_kind(kind):
            h = ", ".join(f"{p.name}={p.default}" for p in pair.hparams)
            lines.append(f"  {pair.id:24s} {pair.interface}" + (f" [hparams: {h}]" if h else ""))
    return "\n".join(lines)


def format_result(result: VerifyResult) -> str:
    lines = [f"verify {result.kind} {result.target} against {result.against} (PyTorch)", ""]
    lines.append(f"{'check':58s} {'passed':>6s} {'max_abs_err':>12s} {'max_rel_err':>12s}")
    for r in result.records:
        lines.append(f"{r.check[:58]:58s} {'yes' if r.passed else 'NO':>6s} {_num(r.max_abs_err):>12s} "
                     f"{_num(r.max_rel_err):>12s}")
    for note in result.notes:
        lines.append(f"note: {note}")
    if result.error:
        lines.append(f"\nERROR: {result.error}")
        return "\n".join(lines)
    first = result.first_failure
    if first is None:
        lines.append(f"\nAGREES with PyTorch: {len(result.records)} checks passed.")
    else:
        lines.append(f"\nDIFFERS from PyTorch: first failing check '{first.check}'.")
        if first.note:
            lines.append(f"  {first.note}")
        if first.first_mismatch:
            m = first.first_mismatch
            where = (f"step {m['step']}, " if "step" in m else "") + f"index {m['index']}"
            lines.append(f"  first mismatch at {where}: yours {m['actual']!r}, PyTorch {m['expected']!r}")
        if result.hint:
            lines.append(f"  hint: {result.hint}")
    return "\n".join(lines)


def format_file_result(result: FileResult) -> str:
    lines = [f"verify {result.path}: {len(result.results)} objects judged against PyTorch, {len(result.skipped)} skipped", "",
             f"{'object':34s} {'kind':9s} {'against':22s} {'verdict':8s} {'worst err':>9s}  hint"]
    for r in result.results:
        worst_abs, _ = r.worst()
        hint = r.error or r.hint or ("; ".join(r.notes) if r.passed else f"first failing check: {r.first_failure.check}")
        lines.append(f"{r.target[:34]:34s} {r.kind:9s} {r.against:22s} {r.verdict.upper():8s} "
                     f"{_num(worst_abs):>9s}  {hint}")
    if result.skipped:
        lines.append("\nskipped:")
        lines += [f"  {name:32s} {why}" for name, why in result.skipped]
    agree = sum(r.passed for r in result.results)
    lines.append(f"\n{agree}/{len(result.results)} agree with PyTorch.")
    return "\n".join(lines)
