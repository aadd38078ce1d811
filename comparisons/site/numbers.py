"""Numbers as a reader wants them: to significant digits, in plain decimals where that is readable.

The study notes' numbers stay recognisable (SSE 0.0975, not 9.8e-02; 1010 and 1000, not 1.0e+03
twice; 100 epochs, not 1.0e+02), and errors far below 1 stay scientific (3.1e-16), where the
exponent is the message.
"""

from __future__ import annotations

import math
import numbers

# plain decimals between these magnitudes, scientific notation outside them
_SMALL, _LARGE = 1e-4, 1e7


def _same(a: float, b: float) -> bool:
    """Equal up to float64 rounding noise (0.0975 and 0.09750000000000003)."""
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _trim(text: str, x: float) -> str:
    """Drop trailing zeros only when the shorter text is still ``x`` (up to rounding noise):
    0.09750000000000003 prints 0.0975, but 0.99995 to 4 digits stays 1.0000, since it was rounded."""
    if "." not in text:
        return text
    short = text.rstrip("0").rstrip(".")
    return short if _same(float(short), x) else text


def _scientific(x: float, digits: int) -> str:
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    if "." in mantissa and _same(float(f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"), x):
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def sig(x, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits: 0.0975, 0.5108, 1010, 100, 2.303, 3.142e-16.

    Whole numbers print whole (1010, not 1010.0); magnitudes from 1e-4 up to 1e7 print as plain
    decimals, the rest as ``m.mme±x``; a bool prints as ✓/✗, None as –, a string unchanged."""
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "✓" if x else "✗"
    if isinstance(x, numbers.Integral):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "−inf"
    if x == 0:
        return "0"
    a = abs(x)
    if a < _SMALL or a >= _LARGE:
        return _scientific(x, digits)
    if x.is_integer():
        return str(int(x))
    decimals = max(digits - 1 - math.floor(math.log10(a)), 0)
    return _trim(f"{x:.{decimals}f}", x)


def error(x) -> str:
    """A measured error or tolerance: two significant digits, scientific below 1e-3 (3.1e-16,
    1e-12), plain above (0.69, 2)."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool) and x != 0 and math.isfinite(x) and abs(x) < 1e-3:
        return _scientific(float(x), 2)
    return sig(x, 2)


def _number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def tolerance_share(record: dict) -> tuple[str, float | None]:
    """How much of its tolerance a check used, for a reader who wants to know how close to failing
    it came: ``('ratio', r)`` with r = max_abs_err ÷ atol where the atol alone covers every element
    (r ≤ 1 bounds the share from above; a statistical check has no rtol, so there r is exact);
    ``('rtol', None)`` for a check that passed with a larger error, allowed by its rtol part
    (atol + rtol·|e|, or a scale); ``('failed', None)`` for a failed one; ``('none', None)`` for a
    check with no tolerance (a finding). A record that keeps the exact share (``tol_ratio``, the
    largest |a − e| ÷ (atol + rtol·|e|)) is shown as it is."""
    exact = record.get("tol_ratio")
    if _number(exact):
        return ("ratio", float(exact)) if record.get("passed") or exact > 1 else ("failed", None)
    err, atol = record.get("max_abs_err"), record.get("atol")
    if not (_number(err) and _number(atol)) or atol <= 0:
        return ("failed", None) if record.get("atol") is not None and not record.get("passed") else ("none", None)
    if err <= atol:
        return ("ratio", err / atol) if record.get("passed") else ("failed", None)
    return ("rtol", None) if record.get("passed") else ("failed", None)


def share_text(share: tuple[str, float | None], words: dict) -> str:
    """``tolerance_share``'s result as a reader sees it: 0.0031, 2.2e-4, < 1 (by rtol), > 1 or –."""
    kind, value = share
    if kind == "ratio":
        return "0" if value == 0 else error(value)
    return {"rtol": words["ratio_rtol"], "failed": words["ratio_failed"]}.get(kind, "–")


def worst_share(records) -> tuple[str, float | None]:
    """The share of the check that came closest to failing among ``records``: a failure first, then a
    check judged by its rtol, then the largest ratio."""
    shares = [tolerance_share(r) for r in records]
    for kind in ("failed", "rtol"):
        if any(k == kind for k, _ in shares):
            return (kind, None)
    ratios = [v for k, v in shares if k == "ratio"]
    return ("ratio", max(ratios)) if ratios else ("none", None)
