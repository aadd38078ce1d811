"""NaN and ±inf as PyTorch treats them: every scratch layer, activation, loss and optimizer where
torch defines the result gives the same one, forward and backward.

The rules found in torch 2.x (and checked here against the installed torch):
- max pooling: a window holding a NaN gives NaN, and its gradient goes to the window's *last* NaN
  in row-major order (the kernel takes an element when ``val > max or isnan(val)``); a window of
  −∞ only gives −∞, its gradient to its first element of the input, never to padding;
- ``clip_grad_norm_``: a NaN anywhere makes the norm NaN and every gradient NaN; an infinity
  makes the norm inf, the finite entries 0 and the infinite ones NaN (inf·0); with max_norm = inf
  an infinite gradient turns every entry NaN (inf/inf);
- ReLU'(NaN) = 1 (autograd blocks the gradient only where the output is <= 0), LeakyReLU'(NaN) =
  negative_slope, ELU'(NaN) = 1; sign(NaN) = 0 in the gradient of |x| (L1 loss, L1 penalty);
- softmax of a row holding +∞ or NaN, or only −∞, is NaN everywhere; a −∞ logit gets probability 0.
Where the same formula runs on both sides (matrix products, means, the optimizers' updates), NaN
and inf travel the same way; those checks prove it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import torch_ref.losses as tloss
import torch_ref.optim as topt
import torch_ref.recurrent as trec
from comparisons import bridge
from scratch import activations as A
from scratch import conv as C
from scratch import layers as L
from scratch import linear_regression as LR
from scratch import losses as LS
from scratch import optim as O
from scratch import recurrent as RC
from scratch import regularization as R

NAN, INF = np.nan, np.inf
SPECIAL = np.array([NAN, INF, -INF, 0.0, -0.0, -1.5, 2.0, 1e-300, -3.0])
HUGE = np.array([1e308, -1e308, 1.7e308])
DTYPES = {"float64": (np.float64, torch.float64), "float32": (np.float32, torch.float32)}


def same(ours, theirs, dtype="float64"):
    """Equal where finite (to the 'exact' tolerance of the dtype), NaN where NaN, the same infinity."""
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    tol = {"float64": (1e-12, 1e-10), "float32": (1e-6, 1e-5)}[dtype]
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), atol=tol[0], rtol=tol[1],
                               equal_nan=True)


def leaf(a, dtype=torch.float64):
    return torch.tensor(np.asarray(a), dtype=dtype, requires_grad=True)


def autograd(fn, x, dout):
    """(fn(x), ∂(fn(x)·dout)/∂x) by torch."""
    xt = leaf(x)
    out = fn(xt)
    out.backward(torch.as_tensor(dout, dtype=out.dtype))
    return out, xt.grad


# --- activations -------------------------------------------------------------------------------------

ACTIVATIONS = [
    ("relu", L.ReLU, torch.relu),
    ("leaky_relu", lambda: L.LeakyReLU(0.01), lambda x: F.leaky_relu(x, 0.01)),
    ("leaky_relu slope 0", lambda: L.LeakyReLU(0.0), lambda x: F.leaky_relu(x, 0.0)),
    ("sigmoid", L.Sigmoid, torch.sigmoid),
    ("tanh", L.Tanh, torch.tanh),
    ("identity", L.Identity, lambda x: x * 1),
]


@pytest.mark.parametrize("name, layer, torch_fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_forward_and_backward_at_nan_and_inf(name, layer, torch_fn):
    x = np.stack([SPECIAL, SPECIAL[::-1]])
    dout = np.linspace(-1.0, 2.0, x.size).reshape(x.shape)
    scratch_layer = layer()
    out, dx = autograd(torch_fn, x, dout)
    same(scratch_layer.forward(x), out)
    same(scratch_layer.backward(dout), dx)


def test_elu_at_nan_and_inf_where_torch_defines_it():
    """ELU's gradient at NaN is not defined by torch: its kernel gives dout on a scalar tail and
    NaN in vectorised blocks (16 float64s here), so only the rest is compared, and scratch gives
    dout (the scalar path; ELU'(x) = 1 where x <= 0 is false)."""
    x = np.stack([SPECIAL, SPECIAL[::-1]])
    dout = np.linspace(-1.0, 2.0, x.size).reshape(x.shape)
    layer = L.ELU(1.0)
    out, dx = autograd(F.elu, x, dout)
    same(layer.forward(x), out)
    ours = layer.backward(dout)
    same(np.where(np.isnan(x), 0.0, ours), np.where(np.isnan(x), 0.0, dx.numpy()))
    assert (ours[np.isnan(x)] == dout[np.isnan(x)]).all()
    alone = [autograd(F.elu, np.full(n, NAN), np.full(n, 0.5))[1].numpy() for n in (1, 64)]
    if all(np.array_equal(a[:1], alone[0][:1], equal_nan=True) for a in alone):  # a torch that defines it
        same(layer.backward(np.full(x.shape, 0.5))[np.isnan(x)], np.full(2, alone[0][0]))


def test_relu_passes_the_gradient_at_nan_and_blocks_it_at_zero_and_below():
    assert A.relu_grad(np.array([NAN, 0.0, -0.0, -INF, INF, 1e-300])).tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 1.0]


def test_the_step_function_is_0_at_nan_as_torch_heaviside():
    x = torch.tensor(SPECIAL)
    same(A.step(SPECIAL), torch.heaviside(x, torch.zeros((), dtype=x.dtype)))


@pytest.mark.parametrize("row", [[INF, 1.0, 0.0], [-INF, 1.0, 0.0], [-INF, -INF, -INF], [NAN, 1.0, 0.0],
                                 [INF, INF, 0.0], [1e308, 1.0, -1e308], [-INF, 1e308, 1e308]])
def test_softmax_at_nan_and_inf(row):
    x = np.array([row, [0.5, -0.5, 1.0]])
    dout = np.array([[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]])
    out, dx = autograd(lambda t: torch.softmax(t, dim=-1), x, dout)
    layer = L.Softmax()
    same(layer.forward(x), out)
    same(layer.backward(dout), dx)


# --- losses --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", [[INF, 1.0, 0.0], [-INF, 1.0, 0.0], [1.0, -INF, 0.0], [-INF, -INF, -INF],
                                 [NAN, 1.0, 0.0], [1e308, 1.0, -1e308]])
@pytest.mark.parametrize("label", [0, 1])
def test_softmax_cross_entropy_at_nan_and_inf(row, label):
    x = np.array([row, [0.5, -0.5, 1.0]])
    t = np.array([label, 2])
    loss, dx = autograd(lambda s: F.cross_entropy(s, torch.as_tensor(t)), x, 1.0)
    same(LS.softmax_cross_entropy(x, t), loss)
    same(LS.softmax_cross_entropy_grad(x, t), dx)
    layer = L.SoftmaxWithLoss()
    same(layer.forward(x, t), loss)
    same(layer.backward(1.0), dx)


REGRESSION_LOSSES = [
    ("mean squared error", LS.mean_squared_error, LS.mean_squared_error_grad, tloss.mean_squared_error),
    ("mean absolute error", LS.mean_absolute_error, LS.mean_absolute_error_grad, tloss.mean_absolute_error),
    ("sum squared error", LS.sum_squared_error, LS.sum_squared_error_grad, tloss.sum_squared_error),
]


@pytest.mark.parametrize("name, loss, grad, torch_loss", REGRESSION_LOSSES, ids=[c[0] for c in REGRESSION_LOSSES])
@pytest.mark.parametrize("target", [0.0, INF, NAN])
def test_regression_losses_at_nan_and_inf(name, loss, grad, torch_loss, target):
    y = SPECIAL.copy()
    t = np.full_like(y, 1.0)
    t[1] = target
    value, dy = autograd(lambda s: torch_loss(s, torch.as_tensor(t)), y, 1.0)
    same(loss(y, t), value)
    same(grad(y, t), dy)


def test_the_gradient_of_the_squared_error_near_the_largest_float():
    """(2/n)·(y − t), as torch evaluates it: 2·(y − t) first would overflow to inf."""
    _, dy = autograd(lambda s: F.mse_loss(s, torch.zeros(3, dtype=torch.float64)), HUGE, 1.0)
    same(LS.mean_squared_error_grad(HUGE, np.zeros(3)), dy)
    assert np.isfinite(dy.numpy()).all()


def test_the_gradient_of_the_absolute_error_is_0_at_nan():
    assert LS.mean_absolute_error_grad(np.array([NAN, 3.0]), np.zeros(2)).tolist() == [0.0, 0.5]


def test_cross_entropy_on_probabilities_with_a_zero_probability():
    """A probability of 0 at the target: loss inf and gradient −inf, as torch's NLL of log y. At a
    class that is not the target, ∂(−t·log y)/∂y = 0 for t = 0: scratch gives 0 there, where
    torch's autograd multiplies the upstream 0 by 1/y = inf and gives NaN (0·inf)."""
    y = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    t = np.array([0, 2])
    loss, dy = autograd(lambda p: F.nll_loss(torch.log(p), torch.as_tensor(t)), y, 1.0)
    same(LS.cross_entropy_error(y, t, delta=0.0), loss)
    ours = LS.cross_entropy_error_grad(y, t, delta=0.0)
    not_target = (y == 0) & (np.eye(3)[t] == 0)
    assert np.isnan(dy.numpy()[not_target]).all() and (ours[not_target] == 0).all()
    same(np.where(not_target, NAN, ours), dy)


# --- layers -----------------------------------------------------------------------------------------------

def images_with_specials(rng, shape, dtype=np.float64, share=0.2):
    """Random images, some entries NaN or ±inf, some equal to others (ties)."""
    x = rng.integers(-3, 4, size=shape).astype(dtype)  # small integers: many ties
    where = rng.random(shape) < share
    x[where] = rng.choice(np.array([NAN, INF, -INF], dtype=dtype), size=int(where.sum()))
    return x


POOLS = [(2, 2, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1), (2, 1, 1), (3, 3, 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pool, stride, pad", POOLS)
@pytest.mark.parametrize("seed", range(4))
def test_max_pooling_at_nan_and_inf_as_torch(dtype, pool, stride, pad, seed):
    rng = np.random.default_rng(seed)
    x = images_with_specials(rng, (2, 3, 6, 7), DTYPES[dtype][0])
    _check_max_pool(x, pool, stride, pad, rng, dtype)


def _check_max_pool(x, pool, stride, pad, rng, dtype="float64"):
    layer = C.Pooling(pool, pool, stride=stride, pad=pad)
    out = layer.forward(x)
    dout = rng.normal(size=out.shape).astype(x.dtype)
    xt = leaf(x, DTYPES[dtype][1])
    ot = F.max_pool2d(xt, pool, stride, pad)
    ot.backward(torch.as_tensor(dout))
    same(out, ot, dtype)
    same(layer.backward(dout), xt.grad, dtype)


window = hnp.arrays(np.float64, (1, 1, 3, 3), elements=st.sampled_from([NAN, INF, -INF, 0.0, 1.0, 2.0]))


@settings(max_examples=150, deadline=None)
@given(window, st.sampled_from([(3, 1, 0), (2, 1, 0), (2, 1, 1), (3, 1, 1)]))
def test_max_pooling_picks_the_element_torch_picks_in_any_window(x, config):
    _check_max_pool(x, *config, np.random.default_rng(0))


def test_max_pooling_sends_the_gradient_to_the_last_nan_of_a_window():
    x = np.array([[[[1.0, NAN, 3.0], [9.0, NAN, 6.0], [7.0, 8.0, 9.0]]]])
    layer = C.Pooling(3, 3, stride=3)
    assert np.isnan(layer.forward(x)).all()
    assert layer.backward(np.ones((1, 1, 1, 1)))[0, 0].tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]


def test_max_pooling_of_minus_inf_sends_the_gradient_to_the_input_not_to_padding():
    layer = C.Pooling(2, 2, stride=1, pad=1)
    assert (layer.forward(np.full((1, 1, 2, 2), -INF)) == -INF).all()
    assert layer.backward(np.ones((1, 1, 3, 3)))[0, 0].tolist() == [[4, 2], [2, 1]]


@pytest.mark.parametrize("pool, stride, pad", POOLS)
def test_average_pooling_at_nan_and_inf(pool, stride, pad):
    rng = np.random.default_rng(1)
    x = images_with_specials(rng, (2, 2, 6, 6))
    layer = C.AvgPooling(pool, pool, stride=stride, pad=pad)
    out, dx = autograd(lambda t: F.avg_pool2d(t, pool, stride, pad), x,
                       dout := rng.normal(size=layer.forward(x).shape))
    same(layer.forward(x), out)
    same(layer.backward(dout), dx)


def same_layer(layer, x, torch_forward, dout):
    """forward and backward of a scratch layer against ``torch_forward(x, **params)`` by autograd:
    the output, dx and every parameter's gradient."""
    out = layer.forward(x)
    xt, params = leaf(x), {k: leaf(v) for k, v in layer.params.items()}
    ot = torch_forward(xt, **params)
    ot.backward(torch.as_tensor(dout))
    same(out, ot)
    same(layer.backward(dout), xt.grad)
    for key, p in params.items():
        same(layer.grads[key], p.grad)


def test_convolution_at_nan_and_inf():
    rng = np.random.default_rng(2)
    x = images_with_specials(rng, (2, 2, 6, 6), share=0.05)
    W, b = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    W[0, 0, 0, 0] = 0.0  # 0 · inf = NaN on both sides
    same_layer(C.Convolution(W, b, stride=1, pad=1), x, lambda x, W, b: F.conv2d(x, W, b, stride=1, padding=1),
               rng.normal(size=(2, 3, 6, 6)))


def test_linear_at_nan_and_inf():
    rng = np.random.default_rng(3)
    x = np.stack([SPECIAL[:4], [1.0, 2.0, -1.0, 0.5], [INF, 0.0, 1.0, 1.0]])
    same_layer(L.Linear(rng.normal(size=(4, 3)), rng.normal(size=3)), x, lambda x, W, b: x @ W + b,
               rng.normal(size=(3, 3)))


def test_batch_norm_at_nan_and_inf():
    x = np.array([[1.0, NAN, 2.0, INF], [3.0, 1.0, -1.0, 0.0], [0.5, 2.0, 4.0, 1.0]])
    layer = L.BatchNorm1d(np.array([1.0, 2.0, 0.5, 1.5]), np.array([0.0, 0.1, -0.2, 0.3]), momentum=0.9, eps=1e-5)
    mean, var = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    same_layer(layer, x, lambda x, gamma, beta: F.batch_norm(x, mean, var, gamma, beta, training=True, momentum=0.1,
                                                                eps=1e-5), np.arange(12.0).reshape(3, 4) - 5)
    same(layer.running_mean, mean)
    same(layer.running_var, var)


def test_dropout_multiplies_nan_and_inf_by_the_mask_as_torch():
    x = np.stack([SPECIAL, SPECIAL[::-1]])
    torch.manual_seed(0)
    keep = F.dropout(torch.ones(x.shape, dtype=torch.float64), 0.5, training=True) != 0
    torch.manual_seed(0)
    out, dx = autograd(lambda t: F.dropout(t, 0.5, training=True), x, dout := np.full(x.shape, 2.0))
    layer = L.Dropout(0.5)
    layer.set_mask(keep.numpy())
    same(layer.forward(x), out)  # a dropped NaN stays NaN (NaN·0), a dropped inf becomes NaN
    same(layer.backward(dout), dx)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_recurrent_layers_at_nan_and_inf(kind):
    rng = np.random.default_rng(4)
    N, T, D, H = 3, 4, 2, 3
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    Wx, Wh, b = rng.normal(size=(D, G * H)) * 0.5, rng.normal(size=(H, G * H)) * 0.5, rng.normal(size=G * H) * 0.1
    bh = rng.normal(size=G * H) * 0.1
    x = rng.normal(size=(N, T, D))
    x[0, 1, 0], x[1, 2, 1] = NAN, INF
    dh = rng.normal(size=(N, T, H))
    layer = {"rnn": lambda: RC.RNN(Wx, Wh, b), "lstm": lambda: RC.LSTM(Wx, Wh, b),
             "gru": lambda: RC.GRU(Wx, Wh, b, bh)}[kind]()
    hs = layer.forward(x)
    dx = layer.backward(dh)[0]
    weights = bridge.recurrent_to_torch(kind, Wx, Wh, b, gates=layer_gates(kind), bh=bh if kind == "gru" else None)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    module = trec.recurrent(kind, *(torch.as_tensor(weights[n]) for n in names))
    state = (torch.zeros(N, H, dtype=torch.float64),) * (2 if kind == "lstm" else 1)
    out, _, xgrad, _ = trec.run_backward(module, torch.as_tensor(x), state, torch.as_tensor(dh))
    same(hs, out)
    same(dx, xgrad)
    theirs = bridge.recurrent_arrays(module, grad=True, gates=layer_gates(kind))
    for key, grad in layer.grads.items():
        same(grad, theirs[key])


def layer_gates(kind):
    return {"rnn": None, "lstm": RC.LSTM_GATES, "gru": RC.GRU_GATES}[kind]


# --- gradient clipping, penalties, optimizers ----------------------------------------------------------------

GRADIENTS = {"finite": [3.0, 4.0, 0.5], "nan": [1.0, NAN, 2.0], "+inf": [1.0, INF, 2.0], "-inf": [1.0, -INF, 2.0],
             "inf and nan": [INF, NAN, 0.0]}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("max_norm", [1.0, 100.0, INF])
@pytest.mark.parametrize("case", GRADIENTS)
def test_clip_grad_norm_as_torch_at_nan_and_inf(dtype, max_norm, case):
    np_dtype, torch_dtype = DTYPES[dtype]
    grads = {"W": np.array(GRADIENTS[case], dtype=np_dtype), "b": np.array([0.5, -0.25], dtype=np_dtype)}
    params = [torch.nn.Parameter(torch.zeros(len(g), dtype=torch_dtype)) for g in grads.values()]
    for p, g in zip(params, grads.values()):
        p.grad = torch.as_tensor(g.copy())
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    same(RC.clip_grad_norm(grads, max_norm), total, dtype)
    for g, p in zip(grads.values(), params):
        same(g, p.grad, dtype)


def test_clip_grad_norm_turns_every_gradient_nan_when_one_is_nan():
    grads = [np.array([1.0, NAN]), np.array([2.0, 3.0])]
    assert np.isnan(RC.clip_grad_norm(grads, 1.0)) and all(np.isnan(g).all() for g in grads)


def test_global_norm_at_nan_and_inf():
    for g in GRADIENTS.values():
        same(RC.global_norm([np.array(g)]), torch.linalg.vector_norm(torch.tensor(g, dtype=torch.float64)))


def test_l1_and_l2_penalty_gradients_at_nan_and_inf():
    _, dw = autograd(lambda w: 0.3 * w.abs().sum() + 0.5 * 0.2 * (w ** 2).sum(), SPECIAL, 1.0)
    same(R.elastic_grad(SPECIAL, 0.3, 0.2), dw)


def test_the_absolute_error_of_a_regression_at_nan():
    x, y = np.array([1.0, NAN, 2.0, INF]), np.array([0.5, 1.0, 1.0, 0.0])
    a, b = leaf(1.5), leaf(-0.5)
    loss = (a * torch.as_tensor(x) + b - torch.as_tensor(y)).abs().mean()
    loss.backward()
    J, da, db = LR.absolute_error_and_grads(x, y, 1.5, -0.5)
    same(J, loss)
    same(da, a.grad)
    same(db, b.grad)


OPTIMIZERS = [
    ("sgd", lambda: O.SGD(0.1), {"lr": 0.1}),
    ("momentum", lambda: O.Momentum(0.1, 0.9), {"lr": 0.1, "momentum": 0.9}),
    ("nesterov", lambda: O.Nesterov(0.1, 0.9), {"lr": 0.1, "momentum": 0.9}),
    ("adagrad", lambda: O.AdaGrad(0.1), {"lr": 0.1}),
    ("rmsprop", lambda: O.RMSProp(0.1), {"lr": 0.1}),
    ("adam", lambda: O.Adam(0.1), {"lr": 0.1}),
    ("adamw", lambda: O.AdamW(0.1), {"lr": 0.1}),
]


@pytest.mark.parametrize("name, make, hparams", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizers_carry_nan_and_inf_gradients_as_torch(name, make, hparams):
    """Two steps, the first with a NaN and an infinity among finite gradients: both sides end with
    NaN, ±inf and finite parameters in the same places, the finite ones equal."""
    p0 = np.array([1.0, -2.0, 0.5, 3.0, 0.0])
    steps = [np.array([NAN, INF, -INF, 0.5, 0.0]), np.array([0.1, 0.2, 0.3, -0.4, 1.0])]
    params = {"p": p0.copy()}
    opt = make()
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt_opt = topt.build(name, [tp], **hparams)
    for g in steps:
        opt.update(params, {"p": g.copy()})
        topt_opt.zero_grad()
        tp.grad = torch.tensor(g)
        topt_opt.step()
    same(params["p"], tp.detach())
