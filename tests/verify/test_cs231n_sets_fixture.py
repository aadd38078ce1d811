"""The CS231n solution set of tests/fixtures/cs231n_sets is correct code (the verify work plants its
mistakes in copies of it): every gradient agrees with a numerical gradient, the convolution and
group norm with torch.nn.functional, the update rules with torch.optim, dropout keeps with the
probability ``p`` (2018+: the keep probability), and FullyConnectedNet's options all train the same
parameters they declare."""

from pathlib import Path

import numpy as np
import pytest
import torch

from ..pairs.judging import import_from

SETS = Path(__file__).resolve().parent.parent / "fixtures" / "cs231n_sets"


def load(assignment, module):
    return import_from(SETS / assignment, f"cs231n.{module}", ("cs231n",))


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def assert_gradients(f, arrays, grads, atol=1e-7):
    for name, x in arrays.items():
        np.testing.assert_allclose(grads[name], numerical_gradient(f, x), atol=atol, rtol=1e-5, err_msg=name)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("module, names", [("classifiers.linear_svm", ("svm_loss_naive", "svm_loss_vectorized")),
                                           ("classifiers.softmax", ("softmax_loss_naive", "softmax_loss_vectorized"))])
def test_assignment1_linear_losses(rng, module, names):
    mod = load("assignment1", module)
    W, X, y = rng.normal(0, 0.1, (5, 3)), rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    for name in names:
        fn = getattr(mod, name)
        loss, dW = fn(W, X, y, 0.3)
        assert_gradients(lambda: fn(W, X, y, 0.3)[0], {"W": W}, {"W": dW})
    np.testing.assert_allclose(getattr(mod, names[0])(W, X, y, 0.3)[0], getattr(mod, names[1])(W, X, y, 0.3)[0])


def test_assignment1_two_layer_net(rng):
    net = load("assignment1", "classifiers.neural_net").TwoLayerNet(5, 4, 3, std=0.5)
    X, y = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    _, grads = net.loss(X, y, reg=0.05)
    assert_gradients(lambda: net.loss(X, y, reg=0.05)[0], net.params, grads)


def test_assignment1_knn_distances_agree(rng):
    knn = load("assignment1", "classifiers.k_nearest_neighbor").KNearestNeighbor()
    X = rng.normal(size=(9, 4))
    knn.train(X, rng.integers(0, 3, 9))
    d = [knn.compute_distances_two_loops(X[:3]), knn.compute_distances_one_loop(X[:3]), knn.compute_distances_no_loops(X[:3])]
    np.testing.assert_allclose(d[0], d[1], atol=1e-12)
    np.testing.assert_allclose(d[0], d[2], atol=1e-6)


def _layer_case(L, rng, name):
    """(forward, inputs by name, backward's gradients by name) of one layer of assignment 2."""
    x4, d4 = rng.normal(size=(3, 4, 2, 3)), rng.normal(size=(3, 4, 2, 3))
    x2, g, b = rng.normal(size=(6, 4)), rng.normal(size=4) + 1, rng.normal(size=4)
    d2 = rng.normal(size=(6, 4))
    if name == "batchnorm":
        return (lambda: L.batchnorm_forward(x2, g, b, {"mode": "train"}), {"x": x2, "gamma": g, "beta": b},
                L.batchnorm_backward, d2)
    if name == "layernorm":
        return lambda: L.layernorm_forward(x2, g, b, {}), {"x": x2, "gamma": g, "beta": b}, L.layernorm_backward, d2
    if name == "spatial_batchnorm":
        return (lambda: L.spatial_batchnorm_forward(x4, g, b, {"mode": "train"}), {"x": x4, "gamma": g, "beta": b},
                L.spatial_batchnorm_backward, d4)
    gg, bg = g.reshape(1, 4, 1, 1).copy(), b.reshape(1, 4, 1, 1).copy()
    return (lambda: L.spatial_groupnorm_forward(x4, gg, bg, 2, {}), {"x": x4, "gamma": gg, "beta": bg},
            L.spatial_groupnorm_backward, d4)


@pytest.mark.parametrize("name", ["batchnorm", "layernorm", "spatial_batchnorm", "spatial_groupnorm"])
def test_assignment2_normalisations(rng, name):
    L = load("assignment2", "layers")
    forward, inputs, backward, dout = _layer_case(L, rng, name)
    dx, dgamma, dbeta = backward(dout, forward()[1])
    assert_gradients(lambda: np.sum(forward()[0] * dout), inputs, {"x": dx, "gamma": dgamma, "beta": dbeta})
    if name == "batchnorm":
        np.testing.assert_allclose(L.batchnorm_backward_alt(dout, forward()[1])[0], dx, rtol=1e-10, atol=1e-12)


def test_assignment2_convolution_and_group_norm_match_pytorch(rng):
    L = load("assignment2", "layers")
    x, w, b = rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    out, cache = L.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1)
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-12)
    dout = rng.normal(size=out.shape)
    dx, dw, db = L.conv_backward_naive(dout, cache)
    f = lambda: np.sum(L.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})[0] * dout)  # noqa: E731
    assert_gradients(f, {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db})
    gamma, beta = rng.normal(size=(1, 4, 1, 1)), rng.normal(size=(1, 4, 1, 1))
    x4 = rng.normal(size=(2, 4, 3, 3))
    out, _ = L.spatial_groupnorm_forward(x4, gamma, beta, 2, {})
    expected = torch.nn.functional.group_norm(torch.tensor(x4), 2, torch.tensor(gamma.ravel()), torch.tensor(beta.ravel()))
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-12)


def test_assignment2_max_pool_and_dropout(rng):
    L = load("assignment2", "layers")
    x, pool = rng.normal(size=(2, 3, 4, 6)), {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = L.max_pool_forward_naive(x, pool)
    dout = rng.normal(size=out.shape)
    assert_gradients(lambda: np.sum(L.max_pool_forward_naive(x, pool)[0] * dout), {"x": x},
                     {"x": L.max_pool_backward_naive(dout, cache)})
    out, _ = L.dropout_forward(rng.normal(size=(400, 100)) + 5, {"mode": "train", "p": 0.3, "seed": 1})
    assert abs((out != 0).mean() - 0.3) < 6 * np.sqrt(0.3 * 0.7 / out.size)  # p is the keep probability


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("keep", [1, 0.6])
def test_assignment2_fully_connected_net(rng, normalization, keep):
    fc_net = load("assignment2", "classifiers.fc_net")
    net = fc_net.FullyConnectedNet([5, 4], input_dim=6, num_classes=3, dropout_keep_ratio=keep,
                                   normalization=normalization, reg=0.1, weight_scale=0.5, dtype=np.float64, seed=1)
    for k in net.params:  # away from the ReLU's kink at an all-zero row
        net.params[k] = net.params[k] + rng.normal(0, 0.3, net.params[k].shape)
    X, y = rng.normal(size=(5, 6)), rng.integers(0, 3, 5)
    _, grads = net.loss(X, y)
    assert set(grads) == set(net.params)
    assert_gradients(lambda: net.loss(X, y)[0], net.params, grads)


def test_assignment2_three_layer_convnet(rng):
    net = load("assignment2", "classifiers.cnn").ThreeLayerConvNet(input_dim=(2, 6, 6), num_filters=3, filter_size=3,
                                                                   hidden_dim=5, num_classes=4, weight_scale=0.3,
                                                                   reg=0.1, dtype=np.float64)
    X, y = rng.normal(size=(2, 2, 6, 6)), rng.integers(0, 4, 2)
    _, grads = net.loss(X, y)
    assert_gradients(lambda: net.loss(X, y)[0], net.params, grads)


@pytest.mark.parametrize("rule, make", [("sgd", lambda p: torch.optim.SGD(p, lr=1e-2)),
                                        ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=1e-2, alpha=0.99, eps=1e-8)),
                                        ("adam", lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-8)),
                                        ("sgd_momentum", lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9))])
def test_assignment2_update_rules_match_torch_optim(rng, rule, make):
    update = getattr(load("assignment2", "optim"), rule)
    w0, grads = rng.normal(size=5), [rng.normal(size=5) for _ in range(6)]
    w, config = w0.copy(), None
    p = torch.tensor(w0.copy(), requires_grad=True)
    opt = make([p])
    for g in grads:
        w, config = update(w, g.copy(), config)
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_assignment3_recurrent_layers(rng):
    R = load("assignment3", "rnn_layers")
    N, T, D, H = 2, 3, 4, 5
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    for forward, backward, G in ((R.rnn_forward, R.rnn_backward, 1), (R.lstm_forward, R.lstm_backward, 4)):
        Wx, Wh, b = rng.normal(0, 0.5, (D, G * H)), rng.normal(0, 0.5, (H, G * H)), rng.normal(0, 0.5, G * H)
        dh = rng.normal(size=(N, T, H))
        dx, dh0, dWx, dWh, db = backward(dh, forward(x, h0, Wx, Wh, b)[1])
        assert_gradients(lambda: np.sum(forward(x, h0, Wx, Wh, b)[0] * dh),
                         {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b},
                         {"x": dx, "h0": dh0, "Wx": dWx, "Wh": dWh, "b": db})


def test_assignment3_transformer_layers_run_forward():
    T = load("assignment3", "transformer_layers")
    torch.manual_seed(0)
    attn = T.MultiHeadAttention(8, 2, dropout=0.0).eval()
    q, kv = torch.randn(2, 3, 8), torch.randn(2, 4, 8)
    reference = torch.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    with torch.no_grad():
        reference.in_proj_weight.copy_(torch.cat([attn.query.weight, attn.key.weight, attn.value.weight]))
        reference.in_proj_bias.copy_(torch.cat([attn.query.bias, attn.key.bias, attn.value.bias]))
        reference.out_proj.weight.copy_(attn.proj.weight)
        reference.out_proj.bias.copy_(attn.proj.bias)
        torch.testing.assert_close(attn(q, kv, kv), reference(q, kv, kv, need_weights=False)[0])
    pe = T.PositionalEncoding(8, dropout=0.0)
    assert torch.allclose(pe(torch.zeros(1, 3, 8))[0, 1, :2], torch.tensor([np.sin(1.0), np.cos(1.0)], dtype=torch.float32))
