"""The gradient check these tests share: a backward pass against central differences in float64."""

from __future__ import annotations

import numpy as np

from scratch.gradients import numerical_gradient


def assert_backward_matches_differences(forward, backward, inputs, rng, h=1e-6):
    """``forward()`` computes an output from ``inputs`` (arrays it reads, perturbed here in place);
    ``backward(dout)``, called once after a forward pass, returns the gradients of Σ dout ⊙ out
    with respect to each of ``inputs``, in their order. Each is compared with the central
    difference (f(x + h) − f(x − h))/2h of f = Σ dout ⊙ forward(), element by element.

    The difference quotient's own error (truncation ~h², rounding ~1e-16·|f|/h) stays near 1e-9
    here, so the bound is 1e-7 of the largest gradient entry (and 1e-6 relative); a wrong formula
    is off by O(1)."""
    out = forward()
    dout = rng.standard_normal(np.shape(out))
    analytic = [np.array(g, copy=True) for g in backward(dout)]
    assert len(analytic) == len(inputs)
    for i, (x, g) in enumerate(zip(inputs, analytic)):
        assert x.dtype == np.float64, "gradient checks run in float64"
        numeric = numerical_gradient(lambda _: float(np.sum(forward() * dout)), x, h)
        scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-7 * scale, err_msg=f"gradient of input {i}")
