"""The linear classifiers' loss pairs (:mod:`comparisons.pairs.classifiers`), beyond what every
declaration is tested for (tests/pairs/test_declarations.py): the two relations behind them hold
exactly: CS231n's hinge is C times ``nn.MultiMarginLoss``,
and the two L2 factors are SGD's ``weight_decay`` of reg and of 2·reg."""

import numpy as np
import pytest
import torch

import scratch.classifiers as SC
import torch_ref.classifiers as tcls


@pytest.mark.parametrize("n, c", [(1, 10), (7, 4), (30, 3)])
def test_cs231n_hinge_is_the_number_of_classes_times_multimarginloss(n, c):
    """nn.MultiMarginLoss = (1/N) Σₙ Σ_{j ≠ yₙ} max(0, 1 − s_y + s_j) / C: CS231n's svm_loss without
    the 1/C; so svm_loss = C · MultiMarginLoss, in value and gradient."""
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=(n, c)), rng.integers(0, c, n)
    loss, dx = SC.svm_loss(x, y)
    xt = torch.tensor(x, requires_grad=True)
    mm = torch.nn.MultiMarginLoss()(xt, torch.tensor(y))
    mm.backward()
    np.testing.assert_allclose(loss, c * mm.item(), rtol=1e-14)
    np.testing.assert_allclose(dx, c * xt.grad.numpy(), rtol=1e-14, atol=1e-17)
    per_class, _ = SC.svm_loss(x, y, divide_by_classes=True)
    np.testing.assert_allclose(per_class, mm.item(), rtol=1e-14)


@pytest.mark.parametrize("reg_factor", [1.0, 0.5])
def test_the_l2_factor_is_sgds_weight_decay(reg_factor):
    """One SGD step on reg_factor·reg·ΣW² + data loss is torch.optim.SGD with weight_decay =
    2·reg_factor·reg on the data loss alone: weight_decay = 2·reg (CS231n's assignment 1 since
    2017) or = reg (the ½ form)."""
    rng = np.random.default_rng(11)
    W, X, y, reg, lr = rng.normal(size=(5, 3)), rng.normal(size=(8, 5)), rng.integers(0, 3, 8), 0.7, 0.1
    _, dW = SC.linear_softmax_loss(W, X, y, reg, reg_factor)
    Wt = torch.tensor(W, requires_grad=True)
    opt = torch.optim.SGD([Wt], lr=lr, weight_decay=2 * reg_factor * reg)
    tcls.linear_classifier_loss("softmax", Wt, torch.tensor(X), torch.tensor(y), 0.0).backward()
    opt.step()
    np.testing.assert_allclose(W - lr * dW, Wt.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_a_margin_of_exactly_zero_is_inactive_on_both_sides():
    x, y = np.array([[1.0, 0.0, 0.5, -3.0]]), np.array([0])
    _, dx = SC.svm_loss(x, y)
    xt = torch.tensor(x, requires_grad=True)
    tcls.multiclass_svm_loss(xt, torch.tensor(y)).backward()
    assert dx[0, 1] == 0.0 and xt.grad[0, 1].item() == 0.0
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-15)
