"""scratch.networks: MultiLayerNet, SimpleConvNet and MultiTaskNet against the same networks written with torch
operations (loss, gradients, accuracy), backprop against the numerical gradient, and the parameters and
targets each refuses.

Every argument check at its boundary, on both sides: λ and λ₁ from 0, the dropout ratio in [0, 1), labels in
[0, classes) (the number of classes refused before it indexes), the convolution net's stride, pool and batch
size from 1 and padding from 0."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scratch import networks
from scratch import networks as N
from scratch.networks import SimpleConvNet

from .malformed import (INF, NAN, RNG, Array, Boundary, Case, DictOfArrays, Domain, Int, Labels, Other, Real, T, Tg,
                        fitting, flattened, integers, interval, labels, malformed_input_tests, prove_each, targets)
from .valid import LABELS, MT, NET, TA, TB, X


# --- malformed input: torch's result or an error naming the argument ------------------------------

# the same networks written with torch operations
rng0 = np.random.default_rng(20240613)


def mlp_t(params, x, activation="relu", weight_decay_lambda=0.0, l1_lambda=0.0):
    """Scores of x through Linear → h → … → Linear, and the parameters as leaf tensors."""
    ps = {k: Tg(v) for k, v in params.items()}
    h = flattened(T(x))
    depth = len(ps) // 2
    for i in range(1, depth + 1):
        h = h @ ps[f"W{i}"] + ps[f"b{i}"]
        h = getattr(torch, activation)(h) if i < depth else h
    penalty = sum(0.5 * weight_decay_lambda * (ps[f"W{i}"] ** 2).sum() + l1_lambda * ps[f"W{i}"].abs().sum()
                  for i in range(1, depth + 1))
    return h, ps, penalty


def mlp_loss_and_grads_t(params, x, t, **kw):
    scores, ps, penalty = mlp_t(params, x, **kw)
    loss = F.cross_entropy(scores, targets(t, scores)) + penalty
    loss.backward()
    return [loss, {k: p.grad for k, p in ps.items()}]


def mlp_loss_and_grads(net, x, t):
    loss = net.loss(x, t)
    return [loss, net.backward()]


NET_OPTIONS = {
    "params": DictOfArrays(NET, Array(NET["W1"], extra=[np.ones(4)], finite=True)),
    "activation": Other("relu", ["softplus", None, ["relu"], 3]),
    "weight_decay_lambda": Real(0.0, low=0), "layers": Other(None, [3, "layers", object()]),
    "use_batchnorm": Other(False, ["yes", None, 1.5]), "dropout_ratio": Real(0.0, low=0, high=1, high_open=True),
    "rng": RNG, "bn_kwargs": Other(None, [{"eps": 1e-5}, 3, "bn"]), "l1_lambda": Real(0.0, low=0),
}


def multitask_t(params, x, ta, tb, heads=("a", "b")):
    ps = {k: Tg(v) for k, v in params.items()}
    h = torch.relu(flattened(T(x)) @ ps["W1"] + ps["b1"])
    loss_a = F.cross_entropy(scores_a := h @ ps["Wa"] + ps["ba"], targets(ta, scores_a))
    loss_b = F.cross_entropy(scores_b := h @ ps["Wb"] + ps["bb"], targets(tb, scores_b))
    (sum(loss for hd, loss in (("a", loss_a), ("b", loss_b)) if hd in heads)).backward()
    return [loss_a + loss_b, {k: p.grad if p.grad is not None else torch.zeros_like(p) for k, p in ps.items()}]


def multitask_run(net, x, ta, tb, heads=("a", "b")):
    grads = net.gradient(x, ta, tb, heads=heads)
    return [net.head_losses["a"] + net.head_losses["b"], grads]


XN = rng0.normal(size=(3, 1, 5, 5))  # 5×5 images → 3×3 maps (3×3 filters) → 1×1 after 2×2 pooling
CN = {"W1": rng0.normal(size=(2, 1, 3, 3)), "b1": rng0.normal(size=2), "W2": rng0.normal(size=(2, 3)),
      "b2": rng0.normal(size=3), "W3": rng0.normal(size=(3, 3)), "b3": rng0.normal(size=3)}


def convnet_t(params, x, t=None, stride=1, pad=0, pool=2):
    """The SimpleConvNet in torch's functions: scores, or [loss, gradients] given labels t."""
    ps = {k: Tg(v) for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(T(x), ps["W1"], ps["b1"], stride=stride, padding=pad)), pool)
    scores = F.relu(h.flatten(1) @ ps["W2"] + ps["b2"]) @ ps["W3"] + ps["b3"]
    if t is None:
        return scores
    loss = F.cross_entropy(scores, targets(t, scores))
    loss.backward()
    return [loss, {k: p.grad for k, p in ps.items()}]


CASES = {
    "networks.layer_sizes": Case({"params": NET_OPTIONS["params"]}, N.layer_sizes,
                                 lambda params: [T(params["W1"]).shape[0], T(params["W1"]).shape[1], T(params["W2"]).shape[1]]),
    "networks.num_linear": Case({"params": NET_OPTIONS["params"]}, N.num_linear, lambda params: len(params) // 2),
    "networks.MultiLayerNet": Case(
        NET_OPTIONS, lambda **kw: mlp_loss_and_grads(N.MultiLayerNet(**kw), fitting(X, kw["params"]["W1"]), LABELS),
        lambda params, activation, weight_decay_lambda, l1_lambda, **_: mlp_loss_and_grads_t(
            params, fitting(X, params["W1"]), LABELS, activation=activation, weight_decay_lambda=weight_decay_lambda,
            l1_lambda=l1_lambda)),
    "networks.MultiLayerNet.predict": Case({"x": Array(X)}, lambda x: N.MultiLayerNet(NET).predict(x),
                                           lambda x: mlp_t(NET, x)[0]),
    "networks.MultiLayerNet.loss": Case({"x": Array(X), "t": Labels(LABELS)}, lambda x, t: N.MultiLayerNet(NET).loss(x, t),
                                        lambda x, t: mlp_loss_and_grads_t(NET, x, t)[0]),
    "networks.MultiLayerNet.gradient": Case({"x": Array(X), "t": Labels(LABELS)},
                                            lambda x, t: N.MultiLayerNet(NET).gradient(x, t),
                                            lambda x, t: mlp_loss_and_grads_t(NET, x, t)[1]),
    "networks.MultiLayerNet.numerical_gradient": Case(
        {"x": Array(X), "t": Labels(LABELS), "h": Real(1e-4, low=0, low_open=True)},
        lambda x, t, h: N.MultiLayerNet(NET).numerical_gradient(x, t, h),
        lambda x, t, h: mlp_loss_and_grads_t(NET, x, t)[1], rtol=1e-5, atol=1e-6),
    "networks.MultiLayerNet.accuracy": Case(
        {"x": Array(X), "t": Labels(LABELS)}, lambda x, t: N.MultiLayerNet(NET).accuracy(x, t),
        lambda x, t: (mlp_t(NET, x)[0].argmax(dim=1) == (T(t).argmax(dim=1) if np.ndim(t) == 2 else labels(t)))
        .double().mean()),
    "networks.SimpleConvNet": Case(
        {"params": DictOfArrays(CN, Array(CN["W1"], finite=True)), "stride": Int(1, minimum=1), "pad": Int(0, minimum=0),
         "pool": Int(2, minimum=1), "layers": Other(None, [3, "layers", object()]),
         "conv": Other(None, [3, "conv", object()])},
        lambda params, stride, pad, pool, layers, conv: mlp_loss_and_grads(
            N.SimpleConvNet(params, stride, pad, pool, layers, conv), XN, LABELS),
        lambda params, stride, pad, pool, **_: convnet_t(params, XN, LABELS, stride, pad, pool)),
    "networks.SimpleConvNet.predict": Case({"x": Array(XN)}, lambda x: N.SimpleConvNet(CN).predict(x),
                                           lambda x: convnet_t(CN, x)),
    "networks.SimpleConvNet.loss": Case({"x": Array(XN), "t": Labels(LABELS)},
                                        lambda x, t: N.SimpleConvNet(CN).loss(x, t), lambda x, t: convnet_t(CN, x, t)[0]),
    "networks.SimpleConvNet.gradient": Case({"x": Array(XN), "t": Labels(LABELS)},
                                            lambda x, t: N.SimpleConvNet(CN).gradient(x, t),
                                            lambda x, t: convnet_t(CN, x, t)[1]),
    "networks.SimpleConvNet.numerical_gradient": Case(
        {"x": Array(XN), "t": Labels(LABELS), "h": Real(1e-4, low=0, low_open=True)},
        lambda x, t, h: N.SimpleConvNet(CN).numerical_gradient(x, t, h),
        lambda x, t, h: convnet_t(CN, x, t)[1], rtol=1e-5, atol=1e-6),
    "networks.SimpleConvNet.accuracy": Case(
        {"x": Array(XN), "t": Labels(LABELS), "batch_size": Int(2, minimum=1)},
        lambda x, t, batch_size: N.SimpleConvNet(CN).accuracy(x, t, batch_size),
        lambda x, t, batch_size: (convnet_t(CN, x).argmax(dim=1) == (T(t).argmax(dim=1) if np.ndim(t) == 2 else labels(t)))
        .double().mean()),
    "networks.MultiTaskNet": Case(
        {"params": DictOfArrays(MT, Array(MT["W1"], extra=[np.ones(4)], finite=True)),
         "layers": Other(None, [3, "layers", object()])},
        lambda params, layers: multitask_run(N.MultiTaskNet(params, layers), fitting(X, params["W1"]), TA, TB),
        lambda params, layers: multitask_t(params, fitting(X, params["W1"]), TA, TB)),
    "networks.MultiTaskNet.loss": Case(
        {"x": Array(X), "ta": Labels(TA), "tb": Labels(TB, classes=2)},
        lambda x, ta, tb: N.MultiTaskNet(MT).loss(x, ta, tb), lambda x, ta, tb: multitask_t(MT, x, ta, tb)[0]),
    "networks.MultiTaskNet.gradient": Case(
        {"x": Array(X), "ta": Labels(TA), "tb": Labels(TB, classes=2),
         "heads": Other(("a", "b"), [("c",), (), None, 3, ["a", "z"], "ab"])},
        lambda x, ta, tb, heads: multitask_run(N.MultiTaskNet(MT), x, ta, tb, heads),
        lambda x, ta, tb, heads: multitask_t(MT, x, ta, tb, heads)),
}


test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_RNG = np.random.default_rng(0)
AT_MLP = {"W1": AT_RNG.normal(size=(3, 4)), "b1": np.zeros(4), "W2": AT_RNG.normal(size=(4, 2)), "b2": np.zeros(2)}
AT_X = AT_RNG.normal(size=(2, 3))
AT_CONV = {"W1": AT_RNG.normal(size=(2, 1, 3, 3)), "b1": np.zeros(2), "W2": AT_RNG.normal(size=(8, 5)), "b2": np.zeros(5),
        "W3": AT_RNG.normal(size=(5, 3)), "b3": np.zeros(3)}
AT_IMAGES = AT_RNG.normal(size=(2, 1, 6, 6))


def mlp(**kw):
    net = N.MultiLayerNet({k: v.copy() for k, v in AT_MLP.items()}, rng=np.random.default_rng(0), **kw)
    return net.gradient(AT_X, np.array([0, 1]))


BOUNDARIES = [
    Boundary("weight_decay_lambda", lambda v: mlp(weight_decay_lambda=v), "weight_decay_lambda",
             interval(0.0, INF, high_open=True)),
    Boundary("l1_lambda", lambda v: mlp(l1_lambda=v), "l1_lambda", interval(0.0, INF, high_open=True)),
    Boundary("dropout_ratio", lambda v: mlp(dropout_ratio=v), "dropout_ratio", interval(0.0, 1.0, high_open=True)),
    Boundary("MultiLayerNet labels", lambda v: N.MultiLayerNet(AT_MLP).loss(AT_X, np.array([0, v])), "t",
             Domain(accepted=(0, 1, 1.0), refused=(-1, 2, 0.5, NAN))),
    Boundary("SimpleConvNet stride", lambda v: N.SimpleConvNet(AT_CONV, stride=v), "stride", integers(1)),
    Boundary("SimpleConvNet pad", lambda v: N.SimpleConvNet(AT_CONV, pad=v), "pad", integers(0)),
    Boundary("SimpleConvNet pool", lambda v: N.SimpleConvNet(AT_CONV, pool=v), "pool", integers(1)),
    Boundary("SimpleConvNet.accuracy batch_size", lambda v: N.SimpleConvNet(AT_CONV).accuracy(AT_IMAGES, [0, 2], v),
             "batch_size", integers(1)),
    Boundary("SimpleConvNet labels", lambda v: N.SimpleConvNet(AT_CONV).loss(AT_IMAGES, np.array([0, v])), "t",
             Domain(accepted=(0, 2), refused=(-1, 3))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

def mlp_params(rng, sizes=(4, 3, 2)):
    return {key: value for i in range(1, len(sizes))
            for key, value in ((f"W{i}", rng.normal(size=sizes[i - 1:i + 1])), (f"b{i}", np.zeros(sizes[i])))}


def multitask_params(rng):
    return {"W1": rng.normal(size=(4, 5)), "b1": np.zeros(5), "Wa": rng.normal(size=(5, 3)), "ba": np.zeros(3),
            "Wb": rng.normal(size=(5, 2)), "bb": np.zeros(2)}


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5, float("nan")])
def test_multilayer_net_dropout_ratio_out_of_range(ratio):
    with pytest.raises(ValueError, match=r"dropout probability has to be in \[0, 1\), but got dropout_ratio="):
        networks.MultiLayerNet(mlp_params(np.random.default_rng(0)), dropout_ratio=ratio)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"dropout_ratio": "0.5"}, TypeError, "dropout_ratio must be a real number"),
    ({"weight_decay_lambda": float("nan")}, ValueError, "weight_decay_lambda must be a finite number >= 0"),
    ({"l1_lambda": -1}, ValueError, "l1_lambda must be a finite number >= 0"),
    ({"use_batchnorm": "yes"}, TypeError, "use_batchnorm must be True or False"),
    ({"activation": ["relu"]}, ValueError, "activation must be one of"),
    ({"rng": 0}, TypeError, "rng must be a numpy.random.Generator"),
    ({"bn_kwargs": {"eps": 1e-5}}, ValueError, "bn_kwargs is given, but use_batchnorm is False"),
    ({"use_batchnorm": True, "bn_kwargs": {"momentum": 2}}, ValueError, "bn_kwargs: momentum must be in"),
    ({"use_batchnorm": True, "bn_kwargs": {"nope": 1}}, TypeError, "bn_kwargs: .*unexpected keyword argument 'nope'"),
    ({"layers": object()}, TypeError, "layers must provide the layer classes"),
])
def test_multilayer_net_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        networks.MultiLayerNet(mlp_params(np.random.default_rng(0)), **kwargs)


def test_multilayer_net_params():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="params must be a dict"):
        networks.MultiLayerNet([np.zeros((4, 3))])
    with pytest.raises(ValueError, match=r"params\['W1'\] must be 2-D"):
        networks.MultiLayerNet({**mlp_params(rng), "W1": np.zeros(4)})
    with pytest.raises(ValueError, match=r"params holds \['gamma1'\], which no layer uses"):
        networks.MultiLayerNet({**mlp_params(rng), "gamma1": np.ones(3)})
    with pytest.raises(ValueError, match=r"params\['gamma1'\] must have shape \(3,\)"):
        networks.MultiLayerNet({**mlp_params(rng), "gamma1": np.ones(5)}, use_batchnorm=True)


def test_multilayer_net_inputs():
    net = networks.MultiLayerNet(mlp_params(np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"x must be a batch of shape \(N, features\)"):
        net.loss(np.ones(4), np.array([0]))
    with pytest.raises(ValueError, match="t must hold 3 labels to match x"):
        net.accuracy(np.ones((3, 4)), np.array([0, 1]))


@pytest.mark.parametrize("heads", [("c",), ("a", "c"), "c", ()])
def test_multitask_gradient_of_unknown_heads(heads):
    net = networks.MultiTaskNet(multitask_params(np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"heads .*\('a', 'b'\)"):
        net.gradient(np.ones((2, 4)), np.array([0, 2]), np.array([1, 0]), heads=heads)


def test_multitask_gradient_of_one_head_by_name():
    net = networks.MultiTaskNet(multitask_params(np.random.default_rng(0)))
    x, ta, tb = np.ones((2, 4)), np.array([0, 2]), np.array([1, 0])
    by_name, as_tuple = net.gradient(x, ta, tb, heads="a"), net.gradient(x, ta, tb, heads=("a",))
    assert all(np.array_equal(by_name[k], as_tuple[k]) for k in by_name)


def test_multitask_params_and_targets():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"params\['Wb'\] must have shape \(5, classes\) to follow W1"):
        networks.MultiTaskNet({**multitask_params(rng), "Wb": np.zeros((4, 2))})
    net = networks.MultiTaskNet(multitask_params(rng))
    with pytest.raises(ValueError, match=r"tb holds labels in \[1, 2\], expected every label in \[0, 2\)"):
        net.loss(np.ones((2, 4)), np.array([0, 2]), np.array([1, 2]))


def test_network_validates_params_and_targets():
    rng = np.random.default_rng(0)
    good = {"W1": rng.normal(size=(4, 3)), "b1": np.zeros(3), "W2": rng.normal(size=(3, 2)), "b2": np.zeros(2)}
    with pytest.raises(ValueError, match="W1, b1"):
        networks.MultiLayerNet({"W1": good["W1"]})
    with pytest.raises(ValueError, match="W2 must have 3 rows"):
        networks.MultiLayerNet({**good, "W2": rng.normal(size=(5, 2))})
    with pytest.raises(ValueError, match="activation must be one of"):
        networks.MultiLayerNet(good, activation="swish")
    net = networks.MultiLayerNet(good)
    with pytest.raises(ValueError, match=r"expected every label in \[0, 2\)"):
        net.loss(rng.normal(size=(2, 4)), np.array([0, 2]))
    with pytest.raises(ValueError, match="NaN"):
        networks.MultiLayerNet({**good, "b1": np.array([np.nan, 0, 0])})


def test_batchnorm_parameters_given_in_params_are_used():
    """gamma1, beta1, … may come in params (e.g. a state copied from torch); beta1 is not a bias."""
    from scratch.networks import MultiLayerNet

    params = {"W1": np.ones((3, 4)), "b1": np.zeros(4), "W2": np.ones((4, 2)), "b2": np.zeros(2),
              "gamma1": np.full(4, 2.0), "beta1": np.full(4, 0.5)}
    net = MultiLayerNet(params, use_batchnorm=True)
    assert sorted(net.params) == ["W1", "W2", "b1", "b2", "beta1", "gamma1"]
    assert np.array_equal(net.params["gamma1"], np.full(4, 2.0)) and np.array_equal(net.params["beta1"], np.full(4, 0.5))


def _convnet(seed=0):
    r = np.random.default_rng(seed)
    params = {"W1": r.normal(0, 0.5, (3, 1, 3, 3)), "b1": r.uniform(0.1, 0.3, 3), "W2": r.normal(0, 0.3, (27, 5)),
              "b2": r.uniform(0.1, 0.3, 5), "W3": r.normal(0, 0.5, (5, 4)), "b3": r.normal(0, 0.1, 4)}
    return SimpleConvNet(params), r.normal(size=(2, 1, 8, 8)), r.integers(0, 4, 2)


def test_simple_convnet_backprop_is_the_numerical_gradient():
    net, x, t = _convnet()
    backprop = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    assert set(backprop) == set(net.params) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for key in backprop:
        np.testing.assert_allclose(backprop[key], numerical[key], atol=1e-7, err_msg=key)


def test_simple_convnet_updates_in_place_reach_its_layers():
    net, x, t = _convnet()
    before = net.loss(x, t)
    for key, g in net.gradient(x, t).items():
        net.params[key] -= 0.1 * g
    assert net.loss(x, t) < before


def test_simple_convnet_refuses_params_it_cannot_use():
    net, _, _ = _convnet()
    with pytest.raises(ValueError, match=r"params\['W1'\] must be 4-D"):
        SimpleConvNet({**net.params, "W1": np.ones((9, 3))})
    with pytest.raises(ValueError, match="params must hold"):
        SimpleConvNet({"W1": net.params["W1"]})
