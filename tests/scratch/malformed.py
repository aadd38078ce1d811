"""One helper for every argument check of ``scratch``: a call given a malformed or out-of-range
argument raises a ValueError or TypeError whose message names the argument; the same call given
the boundary value itself, on the side the check allows, runs.

A :class:`Boundary` states one check: how to call with the value under test, the argument's name
and its domain. :func:`interval` and :func:`integers` spell the usual domains and give the values
at both sides of each end (``np.nextafter``: the nearest float beyond), so that moving a ``<`` to
``<=`` in the check fails a test. :meth:`Boundary.prove` also draws values inside and outside the
domain with Hypothesis.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

NAN, INF = math.nan, math.inf


def names_argument(message: str, argument: str) -> bool:
    """Whether ``message`` holds ``argument`` as a word (``p`` in "got p=1.0", not in "probability")."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message) is not None


def refuses(call: Callable[[], Any], argument: str, errors=(ValueError, TypeError)) -> str:
    """``call()`` raises one of ``errors`` naming ``argument``; returns the message."""
    with pytest.raises(errors) as info:
        call()
    message = str(info.value)
    assert names_argument(message, argument), f"the error does not name {argument!r}: {message}"
    assert "\n" not in message.strip(), f"the error is not one line: {message!r}"
    return message


def accepts(call: Callable[[], Any]):
    """``call()`` runs (and returns what it returns)."""
    return call()


def below(x: float) -> float:
    return float(np.nextafter(x, -INF))


def above(x: float) -> float:
    return float(np.nextafter(x, INF))


@dataclass(frozen=True)
class Domain:
    """The values a check accepts: ``accepted`` and ``refused`` at its boundaries, and Hypothesis
    strategies of values inside and outside it."""

    accepted: tuple
    refused: tuple
    inside: Any = None
    outside: Any = None


def interval(low: float, high: float, low_open: bool = False, high_open: bool = False, finite: bool = True) -> Domain:
    """Real numbers between ``low`` and ``high`` (each end open or closed); NaN is refused, and
    ±inf too unless ``finite`` is False and the interval reaches it."""
    accepted, refused = [], [NAN]
    for end, is_open, inward, outward in ((low, low_open, above, below), (high, high_open, below, above)):
        if math.isinf(end):
            (refused if finite or is_open else accepted).append(end)
            continue
        (refused if is_open else accepted).append(end)
        accepted.append(inward(end))
        refused.append(outward(end))
    if finite:
        refused += [INF, -INF]
    inside = st.floats(low, high, exclude_min=low_open, exclude_max=high_open, allow_nan=False,
                       allow_infinity=not finite)
    outside = st.one_of(*[st.floats(max_value=low, exclude_max=not low_open, allow_nan=False,
                                    allow_infinity=False)] * (not math.isinf(low)),
                        *[st.floats(min_value=high, exclude_min=not high_open, allow_nan=False,
                                    allow_infinity=False)] * (not math.isinf(high)), st.just(NAN))
    return Domain(tuple(accepted), tuple(dict.fromkeys(refused)), inside, outside)


def integers(minimum: int, maximum: int | None = None, drawn_up_to: int = 100) -> Domain:
    """Integers from ``minimum`` (to ``maximum``, both included); an integral float such as 3.0 is
    an integer too, a fraction, NaN or inf is not. Hypothesis draws the accepted ones up to
    ``drawn_up_to`` (a count of steps or epochs is cheap only when small)."""
    accepted = [minimum, minimum + 1, float(minimum)] + ([] if maximum is None else [maximum])
    refused = [minimum - 1, minimum + 0.5, NAN, INF] + ([] if maximum is None else [maximum + 1])
    outside = st.integers(max_value=minimum - 1)
    if maximum is not None:
        outside = outside | st.integers(min_value=maximum + 1)
    return Domain(tuple(accepted), tuple(refused), st.integers(minimum, min(drawn_up_to, maximum or drawn_up_to)),
                  outside)


@dataclass(frozen=True)
class Boundary:
    """One argument check: ``make(value)`` calls scratch with ``value`` as the argument named
    ``argument``; ``domain`` says which values it must accept and which refuse."""

    what: str
    make: Callable[[Any], Any]
    argument: str
    domain: Domain
    also_refused: tuple = field(default=())  # values of another kind: None, a string, an array

    def __str__(self) -> str:
        return self.what

    def prove(self, examples: int = 25) -> None:
        for value in self.domain.accepted:
            try:
                accepts(lambda: self.make(value))
            except (ValueError, TypeError) as exc:  # pragma: no cover - the failure's message
                pytest.fail(f"{self.what}: {self.argument}={value!r} is in the domain, but was refused: {exc}")
        for value in self.domain.refused + self.also_refused:
            refuses(lambda: self.make(value), self.argument)
        if self.domain.inside is None:
            return

        @settings(max_examples=examples, deadline=None, derandomize=True)
        @given(self.domain.inside, self.domain.outside)
        def inside_and_outside(good, bad):
            accepts(lambda: self.make(good))
            refuses(lambda: self.make(bad), self.argument)
        inside_and_outside()


def prove_each(boundaries):
    """The parametrised test of a module's table of boundaries."""
    return pytest.mark.parametrize("boundary", boundaries, ids=str)
