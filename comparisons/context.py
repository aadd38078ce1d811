"""The run context a concept receives: seed, device, dtype, the implementation under test, and
the methods that record checks, tables, figures and timings.

Every concept gets its own ``numpy.random.Generator`` (:func:`comparisons.seeding.generator` of the
run's seed and the concept's id), so a concept's numbers do not depend on which other concepts run
before it. All shared state
(initial weights, data, batch order) is drawn from it as ndarrays and handed to both sides.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import torch

from . import seeding
from .checks import TOLERANCES, CheckRecord, Stepwise, close, first_mismatch, measure, tolerance_ratio

DTYPES = {"float64": (np.float64, torch.float64), "float32": (np.float32, torch.float32)}


def default_implementation() -> ModuleType:
    """The implementation under test unless told otherwise: the ``scratch`` package."""
    import scratch

    return scratch


@dataclass
class RunOptions:
    """What a run was asked for. ``impl`` is the implementation under test (``scratch`` by default):
    any object with the same submodules and names can stand in its place.

    ``quick``: the shortened set-ups (fewer epochs, images, grid points) that the tests and the seed
    sweep use; by default the study notes' full-length set-ups. ``data``: the image set, ``"mnist"``
    or ``"digits"``; None (the default) picks MNIST for the full set-ups and scikit-learn's 8×8
    digits for the quick ones."""

    seed: int = 0
    device: str = "cpu"
    dtypes: tuple[str, ...] = ("float64",)
    quick: bool = False
    data: str | None = None
    data_dir: str | None = None
    impl: Any = None

    def implementation(self):
        return self.impl if self.impl is not None else default_implementation()

    @property
    def images(self) -> str:
        """The image set the run trains on: ``data``, or by default MNIST (full) / digits (quick)."""
        if self.data is not None:
            return self.data
        return "digits" if self.quick else "mnist"

    @property
    def setup(self) -> str:
        """``"full"`` or ``"quick"``: which set-ups the run used (kept in the report's metadata)."""
        return "quick" if self.quick else "full"


@dataclass
class ConceptContext:
    concept: str
    options: RunOptions
    dtype: str
    out_dir: Path | None  # where figures go; None: make none
    records: list[CheckRecord] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    checked_pairs: set = field(default_factory=set)  # (kind, id) of the pairs checked through their declaration

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        self.np_dtype, self.torch_dtype = DTYPES[self.dtype]
        self.device = torch.device(self.options.device)
        self.seed = self.options.seed
        self.impl = self.options.implementation()
        self.quick = self.options.quick
        self.rng = seeding.generator(self.seed, self.concept)

    def __getstate__(self):  # a worker process sends its context back; the implementation is a module
        state = self.__dict__.copy()
        state.pop("impl", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.impl = self.options.implementation()

    def detached(self) -> "ConceptContext":
        """A context for work whose records are not this concept's (a driver's own training run, whose
        comparisons the driver returns): the same options, dtype, generator and timings, its own
        records, values and no figures."""
        other = ConceptContext(self.concept, self.options, self.dtype, None)
        other.rng, other.impl, other.timings = self.rng, self.impl, self.timings
        return other

    # --- artifacts are made once per run (for the first dtype), checks for every dtype ----------
    @property
    def artifacts(self) -> bool:
        return self.out_dir is not None

    def size(self, quick, full):
        """A set-up's length: the study notes' ``full`` one, or the shortened ``quick`` one under
        ``--quick`` (tests, the seed sweep)."""
        return quick if self.quick else full

    # --- conversions ----------------------------------------------------------------------------
    def array(self, x) -> np.ndarray:
        """``x`` as an ndarray of the run's dtype (a copy)."""
        return np.array(x, dtype=self.np_dtype)

    def tensor(self, x, requires_grad: bool = False) -> torch.Tensor:
        """``x`` (ndarray or number) as a tensor of the run's dtype on the run's device."""
        if isinstance(x, torch.Tensor):
            t = x.detach().to(dtype=self.torch_dtype, device=self.device).clone()
        else:
            t = torch.tensor(np.asarray(x), dtype=self.torch_dtype, device=self.device)
        return t.requires_grad_(requires_grad)

    def labels(self, t) -> torch.Tensor:
        """Integer class labels as a ``long`` tensor on the run's device."""
        return torch.as_tensor(np.asarray(t, dtype=np.int64), device=self.device)

    @staticmethod
    def numpy(x) -> np.ndarray:
        """A tensor (on any device) or array as an ndarray on the CPU."""
        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
        return np.asarray(x)

    def tolerance(self, kind: str = "exact") -> tuple[float, float]:
        return TOLERANCES[self.dtype][kind]

    @property
    def fd_step(self) -> float:
        """The finite-difference step for gradient checks: the book's 1e-4 in float64; float32's
        ε ≈ 1.2e-7 would leave only ~3 digits with it, so 1e-2 there."""
        return 1e-4 if self.dtype == "float64" else 1e-2

    # --- recording ------------------------------------------------------------------------------
    def _record(self, check, passed, abs_err, rel_err, atol, rtol, kind, note, mismatch=None, tol_ratio=None):
        rec = CheckRecord(
            concept=self.concept, check=check, passed=bool(passed),
            max_abs_err=abs_err, max_rel_err=rel_err, atol=atol, rtol=rtol,
            dtype=self.dtype, device=str(self.device), seed=self.seed, kind=kind, note=note,
            first_mismatch=mismatch, tol_ratio=tol_ratio,
        )
        self.records.append(rec)
        return rec

    def compare(self, check: str, actual, expected, kind: str = "exact", note: str = "", scale=None) -> CheckRecord:
        """Record whether ``actual`` (under test) matches ``expected`` (PyTorch) within the dtype's
        tolerance for ``kind`` ('exact', 'trained' or 'gradcheck'). Shapes must agree exactly.
        ``scale``: the size of the summed terms (see :func:`checks.close`)."""
        atol, rtol = self.tolerance(kind)
        a, e = self.numpy(actual), self.numpy(expected)
        if a.dtype.kind not in "biuf":  # complex, objects, text: never cast to real numbers in silence
            return self._record(check, False, None, None, atol, rtol, kind,
                                f"under test: {not_real(a)}; PyTorch's: {e.dtype} {e.shape}. {note}".strip())
        if a.shape != e.shape:
            return self._record(check, False, None, None, atol, rtol, kind,
                                f"shape mismatch: under test {a.shape}, PyTorch {e.shape}. {note}".strip())
        abs_err, rel_err = measure(a, e)
        passed = bool(np.all(close(a, e, atol, rtol, scale)))
        mismatch = None if passed else first_mismatch(a, e, atol, rtol, scale)
        return self._record(check, passed, abs_err, rel_err, atol, rtol, kind, note, mismatch,
                            tolerance_ratio(a, e, atol, rtol, scale))

    def compare_in_float64(self, check: str, actual, expected, note: str = "") -> CheckRecord:
        """Record a float32 run's check re-taken in float64 from the same inputs (the referee of a
        float32 result that parts at a cancellation; see :class:`comparisons.lockstep.Lockstep`):
        compared at float64's 'exact' tolerance, its errors float64's, ``note`` saying why."""
        atol, rtol = TOLERANCES["float64"]["exact"]
        a, e = self.numpy(actual), self.numpy(expected)
        abs_err, rel_err = measure(a, e)
        passed = a.shape == e.shape and bool(np.all(close(a, e, atol, rtol)))
        return self._record(check, passed, abs_err, rel_err, atol, rtol, "exact", note,
                            None if passed else first_mismatch(a, e, atol, rtol),
                            tolerance_ratio(a, e, atol, rtol) if a.shape == e.shape else None)

    def stepwise(self, kind: str = "exact") -> Stepwise:
        """An accumulator for one quantity compared at every step (see :meth:`record_stepwise`)."""
        return Stepwise(*self.tolerance(kind))

    def record_stepwise(self, check: str, acc: Stepwise, kind: str = "exact", note: str = "") -> CheckRecord:
        """Record a :class:`Stepwise` comparison: its worst errors over the steps, and where the sides
        first parted (``first_mismatch["step"]``)."""
        note = " ".join(filter(None, [f"{acc.steps} steps.", acc.problem or "", note]))
        return self._record(check, acc.passed, acc.max_abs_err, acc.max_rel_err, acc.atol, acc.rtol, kind,
                            note, acc.first_mismatch, acc.tol_ratio if acc.steps else None)

    def finding(self, check: str, holds: bool, note: str = "", actual=None, expected=None) -> CheckRecord:
        """Record a demonstrated fact; with ``actual``/``expected`` its measured size is kept too."""
        abs_err = rel_err = None
        if actual is not None and expected is not None:
            abs_err, rel_err = measure(self.numpy(actual), self.numpy(expected))
        return self._record(check, holds, abs_err, rel_err, None, None, "finding", note)

    def differs(self, check: str, actual, expected, note: str = "", *, relation: CheckRecord) -> CheckRecord:
        """A finding that two quantities truly differ: passes when they are NOT close within the
        'exact' tolerance, and records by how much.

        A difference on its own proves nothing: a wrong implementation differs too. So every
        ``differs`` names its ``relation``: the record of the exact check (``compare`` at 'exact' or
        'trained', made just before in this context) of the relation the guide states between the
        two quantities. Its name is added to this finding's note, so the report shows them together.
        """
        if not isinstance(relation, CheckRecord) or relation.kind not in ("exact", "trained") \
                or not any(r is relation for r in self.records):
            raise ValueError(f"differs({check!r}) needs relation=<the record of a ctx.compare(...) at 'exact' or "
                             f"'trained' tolerance recorded in this context>, got {relation!r}")
        atol, rtol = self.tolerance("exact")
        a, e = self.numpy(actual), self.numpy(expected)
        holds = a.shape != e.shape or not bool(np.all(close(a, e, atol, rtol)))
        proved = f"Relation checked exactly: “{relation.check}”."
        return self.finding(check, holds, f"{note} {proved}".strip(), a, e)

    def statistical(self, check: str, measured: float, expected: float, tol: float, note: str = "") -> CheckRecord:
        """A sample statistic against its expectation, |measured − expected| ≤ tol."""
        abs_err, rel_err = measure(measured, expected)
        return self._record(check, abs_err <= tol, abs_err, rel_err, tol, 0.0, "statistical", note,
                            tol_ratio=abs_err / tol if tol > 0 else (0.0 if abs_err == 0 else float("inf")))

    def value(self, name: str, number):
        """Keep a number (or short text, or a short list of numbers) of the run under ``name`` for
        the guide's text, which quotes it as ``{{value:NAME}}`` (see :mod:`comparisons.site.text`;
        a list is written comma-separated); returns ``number``."""
        if isinstance(number, (np.generic, np.ndarray)):
            number = number.item() if np.ndim(number) == 0 else number.tolist()
        if isinstance(number, (list, tuple)):
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in number):
                raise TypeError(f"value {name!r}: a list must hold numbers only, got {number!r}")
            number = list(number)
        elif not isinstance(number, (int, float, str)) or isinstance(number, bool):
            raise TypeError(f"value {name!r}: expected a number, a string or a list of numbers, got {type(number).__name__}")
        self.values[name] = number
        return number

    def observed(self, name: str, holds: bool) -> bool:
        """Keep whether an outcome showed in this run, with no pass/fail verdict: for a lesson that
        a shortened set-up or some seeds need not reproduce (e.g. "dropout narrows the train − test
        gap"). The guide states it as ``{{finding:NAME|TEXT}}``, and where it did not show, says
        so ("not shown in this run: TEXT") instead of claiming it. An outcome that must hold at
        every seed is a :meth:`finding` instead: a check."""
        self.values[name] = bool(holds)
        return bool(holds)

    def observed_checks(self, name: str, selects) -> bool:
        """Keep (as :meth:`observed`) whether every check recorded so far that ``selects(check
        name)`` passed, e.g. "the curves of the figure coincide", quoted from the checks behind it.
        At least one check must be selected."""
        chosen = [r for r in self.records if selects(r.check)]
        if not chosen:
            raise ValueError(f"observed_checks({name!r}): no check recorded so far is selected")
        return self.observed(name, all(r.passed for r in chosen))

    def fail(self, check: str, note: str) -> CheckRecord:
        return self._record(check, False, None, None, None, None, "finding", note)

    def table(self, name: str, frame) -> None:
        """Keep a pandas DataFrame for the report (written as CSV and Markdown)."""
        if self.artifacts:
            self.tables[name] = frame

    def figure(self, name: str, make: Callable[[], Any]) -> None:
        """Save the matplotlib figure that ``make()`` returns as ``figures/<concept>-<name>.png``,
        and a figure of several panels also panel by panel, ``<concept>-<name>.panel-<k>.png``
        (:func:`comparisons.plots.save_panels`), which the guide shows one below the other on a phone."""
        if not self.artifacts:
            return
        import matplotlib.pyplot as plt

        from .plots import save_panels

        fig = make()
        filename = f"{self.concept}-{name}.png"
        (self.out_dir / "figures").mkdir(parents=True, exist_ok=True)
        fig.savefig(self.out_dir / "figures" / filename, dpi=90, bbox_inches="tight",
                    metadata={"Software": None})
        save_panels(fig, self.out_dir / "figures" / filename[:-len(".png")])
        plt.close(fig)
        self.figures.append(filename)

    @contextmanager
    def timed(self, side: str):
        """Add the wall time of the block to this concept's time for ``side`` ('numpy' or 'torch')."""
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.device.type == "cuda":
                torch.cuda.synchronize()
            self.timings[side] = self.timings.get(side, 0.0) + time.perf_counter() - start


def not_real(a: np.ndarray) -> str:
    """What an array that does not hold real numbers holds: its dtype and shape, and for complex values
    the largest imaginary part (``complex128 (16, 10), imaginary parts up to 5``)."""
    text = f"{a.dtype} {a.shape}"
    if a.dtype.kind == "c" and a.size:
        largest = float(np.abs(a.imag).max())
        return f"{text}, imaginary parts up to {largest:.3g}" if largest else f"{text}, imaginary parts all 0"
    if a.dtype.kind == "O" and a.size:
        return f"{text}, Python objects such as {type(a.flat[0]).__name__}"
    return text

