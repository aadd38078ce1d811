"""Verify your own NumPy code against PyTorch: ``python -m comparisons verify`` and its Python API.

    python -m comparisons verify common/layers.py                 # every object it recognises
    python -m comparisons verify layer my_layers.py:Relu --against relu
    python -m comparisons verify my_layers.py:Relu                # the reference its name determines
    python -m comparisons verify optimizer my_adam.py:Adam --against adam --hparam lr=0.01
    python -m comparisons verify cs231n/layers.py:batchnorm_forward/batchnorm_backward_alt
    python -m comparisons verify --list

This module is a thin front: what is compared, how, and which mistakes are known lives in the
declarations of :mod:`comparisons.pairs`. Here: running a declaration's driver on the user's object
(under a time limit, in the dtype the code computes in), recording the checks, and asking
:mod:`comparisons.verify_hints` why they differ. Loading the code is :mod:`comparisons.verify_load`,
recognising a file's objects :mod:`comparisons.verify_recognise`, the text :mod:`comparisons.verify_text`,
the hyperparameters given on the command line :mod:`comparisons.verify_hparams`.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import threadpoolctl
import torch

from . import pairs, verify_worker
from .pairs import TargetError, VerifyUsageError
from .pairs._base import CONSTRUCTED, user_defaults
from .verify_hparams import check_hparams, hparams_for, parse_hparams
from .verify_hints import Trials, find_hint
from .verify_load import find, is_file_name, load_module, load_target, source_file, split_target
from .verify_worker import Lost, Worker, check_timeout
from .verify_recognise import NOT_RECOGNISED, Found, interface_problem, pair_for, recognise, skipped_for_interface
from .verify_text import file_html, format_file_result, format_result, json_number, nonfinite_notes, result_html
from .verify_text import list_references as _list_references

KINDS = pairs.KINDS
DEFAULT_TIMEOUT = 60.0  # seconds per object

__all__ = ["VerifyResult", "FileResult", "VerifyUsageError", "assert_agrees", "format_file_result", "format_result",
           "judge", "list_references", "load_module", "load_target", "parse_hparams", "recognise", "verify", "verify_file"]


class TargetTimeout(BaseException):
    """Raised by the watchdog inside the code under test (a BaseException, so the code's own
    ``except Exception`` does not swallow it)."""


@dataclass
class VerifyResult:
    """The verdict on one object: ``agrees``, ``differs`` or ``error`` (it raised, exited or timed
    out), the checks behind it, a hint, notes, and the dtype it was judged in."""

    kind: str
    target: str
    against: str
    records: list
    hint: str | None
    notes: list
    error: str | None = None
    hparams: dict = field(default_factory=dict)
    dtype: str = "float64"
    shown_only: list = field(default_factory=list)  # checks on NaN and ±inf: shown, not counted in the verdict

    @property
    def counted(self) -> list:
        """The checks the verdict is made of (those on NaN and ±inf inputs are shown, not counted)."""
        return [r for r in self.records if r.check not in self.shown_only]

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.counted) and all(r.passed for r in self.counted)

    @property
    def verdict(self) -> str:
        return "error" if self.error else "agrees" if self.passed else "differs"

    @property
    def first_failure(self):
        return next((r for r in self.counted if not r.passed), None)

    def worst(self) -> tuple:
        """(max_abs_err, max_rel_err) over the counted checks, ignoring those without numbers."""
        compared = [r for r in self.counted if r.kind in ("exact", "trained", "gradcheck", "lockstep")]
        abs_errs = [r.max_abs_err for r in compared if isinstance(r.max_abs_err, float)]
        rel_errs = [r.max_rel_err for r in compared if isinstance(r.max_rel_err, float)]
        return (max(abs_errs) if abs_errs else None, max(rel_errs) if rel_errs else None)

    def to_dict(self) -> dict:
        worst_abs, worst_rel = self.worst()
        return {"name": self.target, "kind": self.kind, "against": self.against, "verdict": self.verdict,
                "hint": self.hint or self.error, "dtype": self.dtype, "worst_abs_err": json_number(worst_abs),
                "worst_rel_err": json_number(worst_rel), "hparams": self.hparams, "notes": self.notes,
                "checks": [r.to_dict() for r in self.records], "not_counted": list(self.shown_only)}

    def _repr_html_(self) -> str:
        return result_html(self)

    def __str__(self) -> str:  # print(result): the table `verify` prints
        return format_result(self)


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


def _check_reference_finite(comparisons, hparams):
    bad = [k for k, v in hparams.items() if isinstance(v, float) and not np.isfinite(v)]
    if bad:  # PyTorch took it, and its run stops where it diverges
        raise VerifyUsageError(f"the PyTorch reference is not finite with {bad[0]}={hparams[bad[0]]}: check the "
                               "hyperparameters")
    for c in comparisons:
        expected = np.asarray(c.expected.detach().cpu() if hasattr(c.expected, "detach") else c.expected, dtype=float)
        if not np.all(np.isfinite(expected)):
            shown = ", ".join(f"{k}={v}" for k, v in hparams.items()) or "the defaults"
            raise VerifyUsageError(f"the PyTorch reference is not finite in '{c.label}' with {shown}: "
                                   "check the hyperparameters")


def computes_in_float32(comparisons) -> bool:
    """Whether the code under test computes in float32 from float64 inputs: it hands back float32
    arrays (the book's second volume's ``dtype='f'``, CS231n's ``dtype=np.float32``), or keeps them
    (the book's TimeDropout: a float32 mask times float64 inputs rounds its scale to float32)."""
    if any(isinstance(c.actual, np.ndarray) and c.actual.dtype == np.float32 for c in comparisons):
        return True
    return any(_float32_arrays(obj) for obj in CONSTRUCTED)


def _float32_arrays(obj) -> bool:
    try:
        values = list(vars(obj).values())
    except TypeError:
        return False
    for v in values:
        for a in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(a, np.ndarray) and a.dtype == np.float32:
                return True
    return False


def judge(pair, obj, name: str, given: dict | None = None, dtype: str = "float64", seed: int = 0,
          steps: int | None = None, timeout: float | None = DEFAULT_TIMEOUT) -> VerifyResult:
    """Compare ``obj`` with the pair's PyTorch reference, in the dtype the code computes in; look for
    a hint when they differ. ``steps``: of a training comparison (default: the pair's, else 100)."""
    steps = pair.options.get("steps", 100) if steps is None else steps
    if seed < 0:
        raise VerifyUsageError(f"--seed must be >= 0, got {seed}")
    if steps < 1:
        raise VerifyUsageError(f"--steps must be >= 1, got {steps}")
    given = check_hparams(pair, given or {})
    hparams = {**pair.defaults(), **user_defaults(obj, pair), **given}
    configure_cpu()
    result = VerifyResult(pair.kind, name, pair.id, [], None, [], hparams=hparams, dtype=dtype)
    trials = Trials(pair, obj, dtype, seed, steps)
    try:
        with time_limit(timeout, name):
            comparisons, result.notes = trials.drive(hparams, explicit=given, every=True)
            result.shown_only = [c.label for c in comparisons if c.nonfinite]
            result.records = trials.records(comparisons)
            if dtype == "float64" and not result.passed and computes_in_float32(comparisons):
                trials = Trials(pair, obj, "float32", seed, steps)
                comparisons, notes = trials.drive(hparams, explicit=given, every=True)
                result.records, result.dtype = trials.records(comparisons), "float32"
                result.notes = ["your code computes in float32 (it hands back or keeps float32 arrays from float64 "
                                "inputs): judged in float32, at float32's tolerance", *notes]
            _check_reference_finite([c for c in comparisons if not c.nonfinite], hparams)
            result.notes += nonfinite_notes(result)
            if not result.passed:
                result.hint = find_hint(trials, hparams, [c for c in comparisons if not c.nonfinite])
    except TargetError as exc:
        result.error = str(exc)
    except TargetTimeout as exc:
        result.error = str(exc)
    return result


def _judge_found(found: Found, given: dict, dtype, seed, steps, timeout) -> VerifyResult:
    """One object of a whole file: an error of any kind is its verdict, never the file's end; a
    recurrent class that cannot run as a sequence is tried as one step."""
    result = None
    for pair in [found.pair, *found.alternatives]:
        hparams = {k: v for k, v in given.items() if pair.hparam(k) is not None}
        try:
            attempt = judge(pair, found.obj, found.name, hparams, dtype, seed, steps, timeout)
        except VerifyUsageError as exc:
            attempt = VerifyResult(pair.kind, found.name, pair.id, [], None, [], error=f"cannot be used: {exc}")
        except Exception as exc:  # noqa: BLE001 -- a crash in one object must not stop the file
            attempt = VerifyResult(pair.kind, found.name, pair.id, [], None, [],
                                   error=f"judging it raised {type(exc).__name__}: {exc}")
        if result is not None and attempt.error is None:
            attempt.notes.insert(0, f"judged as {pair.id}: as {result.against} it failed ({result.error})")
        result = attempt if result is None or attempt.error is None else result
        if result.error is None:
            break
    return result


def verify(kind: str | None, target, against: str | None = None, hparams: dict | None = None, dtype: str = "float64",
           seed: int = 0, steps: int | None = None, timeout: float | None = DEFAULT_TIMEOUT,
           isolate: bool | None = None) -> VerifyResult:
    """Compare ``target`` (an object, or a ``MODULE:NAME`` string; ``NAME`` may be a couple
    ``X_forward/X_backward``) with the PyTorch reference ``against`` of ``kind``. Without
    ``against`` (or ``kind``), the reference the object's name or calling style determines. Raises
    :class:`VerifyUsageError` when the target cannot be used.

    The code is imported (a string target) and judged in a worker process (``isolate``, the default
    where the platform can fork): an import or a judgement that runs past ``timeout`` seconds
    (None: no limit), exits or crashes is the verdict ERROR, saying so."""
    timeout = check_timeout(timeout)
    name = target if isinstance(target, str) else getattr(target, "__qualname__", repr(target))
    if isinstance(target, str):
        module_part, _ = split_target(target)
        if is_file_name(module_part):
            source_file(module_part)
    args = (kind, target, against, hparams, dtype, seed, steps)
    if not (verify_worker.available() if isolate is None else isolate):
        return _verify_here(*args, timeout=timeout)

    def main(send):
        loaded = _reported(send, lambda: _load(target, send))
        if loaded:
            send(_outcome(lambda: _verify_here(kind, loaded[0], against, hparams, dtype, seed, steps, name=name,
                                               timeout=None)))

    with Worker(main) as worker:
        try:
            message = worker.receive(timeout, f"importing {split_target(target)[0]!r}") if isinstance(target, str) \
                else ("loaded",)
            if message[0] == "loaded":
                message = worker.receive(timeout, name)
        except Lost as exc:
            return VerifyResult(kind or "", name, against or "", [], None, [], error=str(exc), dtype=dtype)
    return _received(message, kind or "", name, against or "", dtype)


def _load(target, send):
    """The object a target names (imported here, in the worker), announced as loaded."""
    if not isinstance(target, str):
        return target
    obj = load_target(target)
    send(("loaded",))
    return obj


def _reported(send, load) -> tuple:
    """``(load(),)`` in the worker; ``()`` once what stopped it is sent (the code's error, or a usage error)."""
    try:
        return (load(),)
    except TargetError as exc:
        send(("error", str(exc)))
    except VerifyUsageError as exc:
        send(("usage", str(exc)))
    return ()


def _outcome(judging) -> tuple:
    """What the worker sends for one judgement: the result, a usage error, or what went wrong."""
    try:
        return ("result", judging())
    except VerifyUsageError as exc:
        return ("usage", str(exc))
    except TargetError as exc:
        return ("error", str(exc))
    except Exception as exc:  # noqa: BLE001 -- the verdict says it, the worker goes on
        return ("error", f"judging it raised {type(exc).__name__}: {exc}")


def _received(message, kind, name, against, dtype) -> VerifyResult:
    """The worker's message as a verdict (a usage error raised here, in the process that reports it)."""
    what, *rest = message
    if what == "result":
        return rest[0]
    if what == "usage":
        raise VerifyUsageError(rest[0])
    if what == "unpicklable":
        return VerifyResult(kind, name, against, [], None, [], error=f"its result could not be sent back: {rest[0]}",
                            dtype=dtype)
    return VerifyResult(kind, name, against, [], None, [], error=rest[0], dtype=dtype)


def _verify_here(kind, target, against, hparams, dtype, seed, steps, name=None, timeout=None) -> VerifyResult:
    """:func:`verify` in this process: a string target imported here."""
    name = name or (target if isinstance(target, str) else getattr(target, "__qualname__", repr(target)))
    try:
        obj = load_target(target) if isinstance(target, str) else target
    except TargetError as exc:
        return VerifyResult(kind or "", name, against or "", [], None, [], error=str(exc), dtype=dtype)
    short = split_target(name)[1] if isinstance(target, str) or ":" in name else name
    if against is None:
        pair, obj = pair_for(kind, short, obj)
    else:
        pair = pairs.get(kind, against) if kind else _pair_by_id(against)
        if isinstance(obj, tuple):
            obj = _couple_for(pair, obj, name)
    problem = interface_problem(pair, obj)
    if problem:
        raise VerifyUsageError(f"{pair.kind} {pair.id} expects {pair.interface}; {problem}")
    return judge(pair, obj, name, hparams, dtype, seed, steps, timeout)


def _pair_by_id(against: str):
    found = [p for (k, i), p in pairs.PAIRS.items() if i == against]
    if not found:
        raise VerifyUsageError(f"unknown reference {against!r} (see --list)")
    return found[0]


def _couple_for(pair, couple, name):
    from .pairs.functional import ADAPTERS

    base = next((cls for pid, cls in ADAPTERS.values() if pid == pair.id), None)
    if base is None:
        raise VerifyUsageError(f"{name}: {pair.kind} {pair.id} has no adapter for a forward/backward couple")
    return type(name, (base,), {"forward_fn": staticmethod(couple[0]), "backward_fn": staticmethod(couple[1])})


def assert_agrees(kind: str, target, against: str | None = None, **kwargs) -> VerifyResult:
    """:func:`verify`, raising an AssertionError that carries the table and the hint unless it agrees."""
    result = verify(kind, target, against, **kwargs)
    if not result.passed:
        raise AssertionError("\n" + format_result(result))
    return result


# --- a whole file -----------------------------------------------------------------------------------


@dataclass
class FileResult:
    """The verdicts on a file's objects and what was skipped; ``error`` when the file itself could
    not be imported (it raised, exited, crashed or ran past the time limit)."""

    path: str
    results: list
    skipped: list
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.results) and all(r.passed for r in self.results)

    def to_dict(self) -> dict:
        out = {"file": str(self.path), "objects": [r.to_dict() for r in self.results]
               + [{"name": n, "kind": None, "against": None, "verdict": "skipped", "hint": why} for n, why in self.skipped]}
        if self.error:
            out["error"] = self.error
        return out

    def _repr_html_(self) -> str:
        return file_html(self)

    def __str__(self) -> str:  # print(result): the table `verify FILE.py` prints
        return format_file_result(self)


def _recognised(module, path, given: dict) -> tuple[list, list]:
    """(found, skipped) of an imported file; usage errors for a file with nothing to judge and for
    hyperparameters that no object takes or that break their reference's rules."""
    found, skipped = recognise(module)
    if not found and all(why == NOT_RECOGNISED for _, why in skipped):
        raise VerifyUsageError(nothing_recognised(path, skipped))
    unknown = [k for k in given if "." not in k and not any(f.pair.hparam(k) for f in found)]
    if unknown:
        raise VerifyUsageError(f"no object of {path} takes the hyperparameter {unknown[0]!r}")
    for f in found:
        for pair in [f.pair, *f.alternatives]:
            check_hparams(pair, {k: v for k, v in hparams_for(f.name, given).items() if pair.hparam(k) is not None})
    return found, skipped


def nothing_recognised(path, skipped) -> str:
    """One line: the names the file defines and the names verify knows."""
    seen = ", ".join(n for n, _ in skipped) if skipped else "no classes or functions of its own"
    known = sorted({n for p in pairs.PAIRS.values() for n in p.names}, key=str.lower)
    return (f"nothing in {path} is recognised: it defines {seen}; verify knows the names {', '.join(known)}, "
            "CS231n's X_forward/X_backward couples and optim.py's rules (or name the reference: verify KIND "
            "FILE.py:NAME --against REFERENCE; see --list)")


def verify_file(path: str, dtype: str = "float64", seed: int = 0, steps: int | None = None,
                timeout: float | None = DEFAULT_TIMEOUT, progress=None, hparams: dict | None = None,
                isolate: bool | None = None) -> FileResult:
    """Judge everything in ``path`` that has a reference, each by its own declaration. ``hparams``:
    given to every object whose reference takes them (``NAME.key`` to one object only).

    The file is imported, and its objects judged, in a worker process (``isolate``, the default
    where the platform can fork), ``timeout`` seconds for the import and for each object (None: no
    limit). An object that runs past it, exits or crashes the worker gets the verdict ERROR saying
    so, and a new worker goes on with the next; an import that fails is the file's ERROR."""
    timeout = check_timeout(timeout)
    source_file(path)
    given = dict(hparams or {})
    if not (verify_worker.available() if isolate is None else isolate):
        return _verify_file_here(path, dtype, seed, steps, timeout, progress, given)
    results, skipped, names = [], [], None
    while names is None or len(results) < len(names):
        start = len(results)
        with Worker(lambda send: _file_worker(send, path, given, start, dtype, seed, steps)) as worker:
            try:
                message = worker.receive(timeout, f"importing {path}")
            except Lost as exc:
                message = ("error", str(exc))
            if message[0] == "usage":
                raise VerifyUsageError(message[1])
            if message[0] == "error":
                if names is None:
                    return FileResult(path, [], [], error=message[1])
                for name, kind, against in names[start:]:  # imported once, it failed the second time
                    results.append(VerifyResult(kind, name, against, [], None, [], dtype=dtype,
                                                error=f"not judged: the file's import failed this time: {message[1]}"))
                break
            names, skipped = (names, skipped) if names is not None else (message[1], message[2])
            for name, kind, against in names[start:]:
                lost = None
                try:
                    result = _received(worker.receive(timeout, name), kind, name, against, dtype)
                except Lost as exc:
                    lost = result = VerifyResult(kind, name, against, [], None, [], error=str(exc), dtype=dtype)
                results.append(result)
                if progress:
                    progress(result)
                if lost:
                    break  # the worker is gone: a new one imports the file and goes on with the next object
    return FileResult(path, results, skipped)


def _file_worker(send, path, given, start, dtype, seed, steps) -> None:
    """In the worker: import the file, say what it holds, and judge its objects from ``start`` on,
    one message each."""
    loaded = _reported(send, lambda: _recognised(load_module(path), path, given))
    if not loaded:
        return
    found, skipped = loaded[0]
    send(("found", [(f.name, f.pair.kind, f.pair.id) for f in found], skipped))
    for f in found[start:]:
        send(_outcome(lambda f=f: _judge_found(f, hparams_for(f.name, given), dtype, seed, steps, None)))


def _verify_file_here(path, dtype, seed, steps, timeout, progress, given) -> FileResult:
    """:func:`verify_file` in this process (no worker): the import and each object under a
    ``SIGALRM`` time limit where there is one."""
    try:
        with time_limit(timeout, f"importing {path}"):
            module = load_module(path)
    except (TargetError, TargetTimeout) as exc:
        return FileResult(path, [], [], error=str(exc))
    found, skipped = _recognised(module, path, given)
    results = []
    for f in found:
        results.append(_judge_found(f, hparams_for(f.name, given), dtype, seed, steps, timeout))
        if progress:
            progress(results[-1])
    return FileResult(path, results, skipped)


def list_references() -> str:
    return _list_references((kind, pairs.of_kind(kind)) for kind in KINDS)


__all__ += ["find", "skipped_for_interface"]
