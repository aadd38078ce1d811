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
