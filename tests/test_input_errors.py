"""Bad input gets a clear error that names the argument and the expected form, or the result torch
gives for the same input. Each bad input found by hand is written down here as its own test;
tests/test_bad_input_properties.py drives every public name with generated ones."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import torch_ref.optim as topt
from scratch import (activations, delta_rule, gradients, init, layers, linear_regression, losses, networks, optim,
                     regularization, schedules, search)

OPTIMIZERS = {
    "SGD": (lambda: optim.SGD(0.1), lambda ps: topt.sgd(ps, 0.1)),
    "Momentum": (lambda: optim.Momentum(0.1, 0.9), lambda ps: topt.momentum(ps, 0.1, 0.9)),
    "Nesterov": (lambda: optim.Nesterov(0.1, 0.9), lambda ps: topt.nesterov(ps, 0.1, 0.9)),
    "AdaGrad": (lambda: optim.AdaGrad(0.1), lambda ps: topt.adagrad(ps, 0.1)),
    "RMSProp": (lambda: optim.RMSProp(0.1), lambda ps: topt.rmsprop(ps, 0.1)),
    "Adam": (lambda: optim.Adam(0.1), lambda ps: topt.adam(ps, 0.1)),
    "AdamW": (lambda: optim.AdamW(0.1), lambda ps: topt.adamw(ps, 0.1)),
}


def mlp_params(rng, sizes=(4, 3, 2)):
    return {key: value for i in range(1, len(sizes))
            for key, value in ((f"W{i}", rng.normal(size=sizes[i - 1:i + 1])), (f"b{i}", np.zeros(sizes[i])))}


def multitask_params(rng):
    return {"W1": rng.normal(size=(4, 5)), "b1": np.zeros(5), "Wa": rng.normal(size=(5, 3)), "ba": np.zeros(3),
            "Wb": rng.normal(size=(5, 2)), "bb": np.zeros(2)}


# --- optimizers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_update_a_0d_parameter_as_torch(name):
    make, make_torch = OPTIMIZERS[name]
    p = np.array(1.5)
    opt = make()
    pt = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    opt_t = make_torch([pt])
    for g in (0.3, -0.2, 0.7):
        opt.update({"p": p}, {"p": np.array(g)})
        pt.grad = torch.tensor(g, dtype=torch.float64)
        opt_t.step()
        assert p.shape == () and p == pytest.approx(pt.item(), rel=1e-15, abs=0)


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("param, message", [
    (np.float64(1.5), r"params\['p'\] must be an ndarray, updated in place; got float64"),
    (1.5, r"params\['p'\] must be an ndarray, updated in place; got float"),
    ([1.5], r"params\['p'\] must be an ndarray, updated in place; got list"),
    (np.array([1, 2]), r"params\['p'\] must have a floating dtype .* only Tensors of floating point dtype"),
])
def test_optimizers_refuse_parameters_they_cannot_update_in_place(name, param, message):
    grads = {"p": np.zeros(np.shape(param)), "q": np.ones(2)}
    q = np.zeros(2)
    with pytest.raises(TypeError, match=message):
        OPTIMIZERS[name][0]().update({"q": q, "p": param}, grads)
    assert np.all(q == 0)  # checked before anything moved


def test_optimizer_refuses_a_read_only_parameter():
    p = np.zeros(2)
    p.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['p'\] is read-only"):
        optim.SGD(0.1).update({"p": p}, {"p": np.ones(2)})


def test_optimizer_state_keeps_the_shape_of_its_parameter():
    opt = optim.Adam(0.1)
    opt.update({"p": np.zeros(3)}, {"p": np.ones(3)})
    with pytest.raises(ValueError, match=r"params\['p'\] has shape \(2, 3\), but the optimizer's state"):
        opt.update({"p": np.zeros((2, 3))}, {"p": np.ones((2, 3))})


@pytest.mark.parametrize("make", [lambda: optim.SGD("0.1"), lambda: optim.Adam(lr="0.1"),
                                  lambda: optim.Momentum(None), lambda: optim.AdaGrad([0.1])])
def test_learning_rate_of_the_wrong_type(make):
    with pytest.raises(TypeError, match="lr must be a real number"):
        make()


def test_learning_rate_set_by_hand_is_checked_at_the_update():
    opt = optim.SGD(0.1)
    opt.lr = "0.1"
    p = np.ones(2)
    with pytest.raises(TypeError, match="lr must be a real number, got str '0.1'"):
        opt.update({"p": p}, {"p": np.ones(2)})
    assert np.all(p == 1)


@pytest.mark.parametrize("make, message", [
    (lambda: optim.Momentum(0.1, momentum="0.9"), "momentum must be a real number"),
    (lambda: optim.Adam(beta1=None), "beta1 must be a real number"),
    (lambda: optim.Adam(eps="1e-8"), "eps must be a real number"),
    (lambda: optim.Adam(bias_correction="no"), "bias_correction must be True or False"),
    (lambda: optim.AdamW(weight_decay=[0.1]), "weight_decay must be a real number"),
])
def test_hyperparameters_of_the_wrong_type(make, message):
    with pytest.raises(TypeError, match=message):
        make()


def test_update_needs_dicts():
    with pytest.raises(TypeError, match="params must be a dict, got list"):
        optim.SGD(0.1).update([np.zeros(2)], {"p": np.ones(2)})
    with pytest.raises(TypeError, match=r"grads\['p'\] must be a real numeric array, got NoneType"):
        optim.SGD(0.1).update({"p": np.zeros(2)}, {"p": None})


def test_integer_gradients_are_their_float_values():
    p, q = np.zeros(2), np.zeros(2)
    optim.Adam(0.1).update({"p": p}, {"p": np.array([1, -2])})
    optim.Adam(0.1).update({"p": q}, {"p": np.array([1.0, -2.0])})
    assert np.array_equal(p, q)


def test_nesterov_lookahead_checks_its_arguments():
    with pytest.raises(TypeError, match="grad_f must be callable"):
        optim.nesterov_lookahead(None, np.ones(2), 0.1, 0.9, 3)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        optim.nesterov_lookahead(lambda x: x, np.ones(2), 0.1, 0.9, -1)
    with pytest.raises(ValueError, match=r"the value of grad_f must have shape \(2,\)"):
        optim.nesterov_lookahead(lambda x: np.ones((3, 2)), np.ones(2), 0.1, 0.9, 3)


# --- schedules -----------------------------------------------------------------------------------


@pytest.mark.parametrize("make, error, message", [
    (lambda: schedules.StepDecay("0.1", 5, 0.5), TypeError, "lr0 must be a real number"),
    (lambda: schedules.StepDecay(0.1, None, 0.5), TypeError, "step_size must be a real number"),
    (lambda: schedules.StepDecay(0.1, float("inf"), 0.5), ValueError, "step_size must be an integer >= 1"),
    (lambda: schedules.ExponentialDecay(0.1, float("nan")), ValueError, "k must be a finite number >= 0"),
])
def test_schedule_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("t", [-1, 2.5, "3", None])
def test_schedules_take_epochs_0_1_2(t):
    for schedule in (schedules.StepDecay(0.1, 5, 0.5), schedules.ExponentialDecay(0.1, 0.1),
                     schedules.InverseTimeDecay(0.1, 0.1)):
        with pytest.raises((TypeError, ValueError), match=r"\bt must be"):
            schedule(t)


# --- networks ------------------------------------------------------------------------------------


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


# --- layers: backward takes a dout of the forward output's shape ----------------------------------


def _forwarded(layer, x):
    layer.forward(x)
    return layer


LAYERS = {
    "ReLU": lambda x: layers.ReLU(), "Sigmoid": lambda x: layers.Sigmoid(), "Tanh": lambda x: layers.Tanh(),
    "Identity": lambda x: layers.Identity(), "LeakyReLU": lambda x: layers.LeakyReLU(),
    "ELU": lambda x: layers.ELU(), "Softmax": lambda x: layers.Softmax(),
    "Linear": lambda x: layers.Linear(np.ones((3, 3)), np.zeros(3)),
    "Maxout": lambda x: layers.Maxout(np.ones((2, 3, 3)), np.zeros((2, 3))),
    "Dropout": lambda x: layers.Dropout(0.5, rng=np.random.default_rng(0)),
    "Dropout (eval)": lambda x: layers.Dropout(0.5).eval(),
    "BatchNorm1d": lambda x: layers.BatchNorm1d(np.ones(3), np.zeros(3)),
    "BatchNorm1d (eval)": lambda x: layers.BatchNorm1d(np.ones(3), np.zeros(3)).eval(),
}


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("dout_shape", [(3,), (1, 3), (2, 1), (2, 3, 1), ()])
def test_backward_refuses_a_dout_numpy_would_broadcast(name, dout_shape):
    x = np.arange(6.0).reshape(2, 3) - 2.5
    layer = _forwarded(LAYERS[name](x), x)
    expected = f"dout must have shape (2, 3) (the shape of the forward output), got dout{dout_shape}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        layer.backward(np.ones(dout_shape))


def test_torch_refuses_the_same_dout():
    y = torch.relu(torch.ones(2, 3, requires_grad=True))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(torch.ones(3))


def test_softmax_backward_refuses_a_dout_of_another_shape():
    y = activations.softmax(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\).*got dout\(1, 3\)"):
        activations.softmax_backward(y, np.ones((1, 3)))


def test_softmax_with_loss_backward_takes_a_scalar():
    layer = layers.SoftmaxWithLoss()
    layer.forward(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"dout must have shape \(\)"):
        layer.backward(np.ones(2))


def test_linear_without_input_grad_stores_gradients_of_the_parameters_shapes():
    rng = np.random.default_rng(0)
    W, b, x, dout = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer = layers.Linear(W, b)
    layer.needs_input_grad = False
    layer.forward(x)
    with pytest.raises(ValueError, match=r"dout must have shape \(5, 3\)"):
        layer.backward(np.ones((5, 1)))  # would have stored a dW of shape (4, 1)
    assert layer.backward(dout) is None
    Wt, bt = torch.tensor(W.T, requires_grad=True), torch.tensor(b, requires_grad=True)
    F.linear(torch.tensor(x), Wt, bt).backward(torch.tensor(dout))
    assert layer.grads["W"].shape == W.shape and layer.grads["b"].shape == b.shape
    np.testing.assert_allclose(layer.grads["W"], Wt.grad.numpy().T, rtol=1e-14)
    np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-14)


def test_linear_on_one_sample_as_nn_linear():
    rng = np.random.default_rng(1)
    W, b, x = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4)
    layer = layers.Linear(W, b)
    out = layer.forward(x)
    xt = torch.tensor(x, requires_grad=True)
    out_t = F.linear(xt, torch.tensor(W.T), torch.tensor(b))
    assert out.shape == out_t.shape == (3,)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-14)
    out_t.backward(torch.ones(3))
    np.testing.assert_allclose(layer.backward(np.ones(3)), xt.grad.numpy(), rtol=1e-14)
    with pytest.raises(ValueError, match="got a 0-d x"):
        layer.forward(np.float64(1.0))


def test_dropout_and_batchnorm_arguments():
    with pytest.raises(TypeError, match="p must be a real number"):
        layers.Dropout("0.5")
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        layers.Dropout(0.5, rng=42)
    with pytest.raises(ValueError, match="mask must hold booleans"):
        layers.Dropout(0.5).set_mask(np.array([0.5, 1.0]))
    with pytest.raises(TypeError, match="momentum must be a real number"):
        layers.BatchNorm1d(np.ones(3), np.zeros(3), momentum="0.9")
    with pytest.raises(ValueError, match="running_var_init must be a finite number >= 0"):
        layers.BatchNorm1d(np.ones(3), np.zeros(3), running_var_init=-1)
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        layers.LeakyReLU("0.01")


# --- losses --------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [2.0, -1.0, float("nan")])
def test_binary_cross_entropy_targets_are_probabilities(t):
    for fn in (losses.binary_cross_entropy, losses.binary_cross_entropy_grad):
        with pytest.raises(ValueError, match=r"t must hold probabilities in \[0, 1\]"):
            fn(np.array([0.5]), np.array([t]))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([t]))


def test_cross_entropy_arguments():
    with pytest.raises(TypeError, match="delta must be a real number"):
        losses.cross_entropy_error(np.array([[0.5, 0.5]]), np.array([0]), delta="1e-7")
    with pytest.raises(ValueError, match="delta must be a finite number >= 0"):
        losses.cross_entropy_error_grad(np.array([[0.5, 0.5]]), np.array([0]), delta=float("nan"))
    with pytest.raises(ValueError, match=r"logits must be a batch of shape \(N, K\)"):
        losses.softmax_cross_entropy(np.float64(1.0), np.array(0))
    with pytest.raises(ValueError, match=r"logits must have at least one class"):
        losses.softmax_cross_entropy(np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(ValueError, match="t must hold integer class labels"):
        losses.softmax_cross_entropy(np.zeros((1, 3)), np.array([np.nan]))


# --- empty and 0-d arrays: torch's results -------------------------------------------------------


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
def test_softmax_of_an_empty_array_is_empty_as_torch(shape):
    x = np.zeros(shape)
    for axis in range(-len(shape), len(shape)):
        expected = torch.softmax(torch.tensor(x), dim=axis).numpy()
        for fn in (activations.softmax, activations.softmax_naive):
            y = fn(x, axis=axis)
            assert y.shape == expected.shape == shape
        assert activations.softmax_backward(x, x, axis=axis).shape == shape


def test_softmax_of_a_0d_array_is_one_as_torch():
    for fn in (activations.softmax, activations.softmax_naive):
        y = fn(np.float64(3.0))
        assert y.shape == () and y == torch.softmax(torch.tensor(3.0, dtype=torch.float64), dim=-1).item() == 1.0
    with pytest.raises(ValueError, match=r"axis out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        activations.softmax(np.float64(3.0), axis=1)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        torch.softmax(torch.tensor(3.0), dim=1)


@pytest.mark.parametrize("axis, error", [(2, ValueError), (-3, ValueError), (1.5, ValueError), ("1", TypeError)])
def test_softmax_axis(axis, error):
    with pytest.raises(error, match="axis"):
        activations.softmax(np.zeros((2, 3)), axis=axis)


def test_losses_of_an_empty_batch_as_torch():
    empty, t = np.zeros((0, 3)), np.zeros(0, dtype=int)
    et, tt = torch.zeros((0, 3), dtype=torch.float64, requires_grad=True), torch.zeros(0, dtype=torch.long)
    ce = F.cross_entropy(et, tt)
    ce.backward()
    assert np.isnan(losses.softmax_cross_entropy(empty, t)) and np.isnan(ce.item())
    assert losses.softmax_cross_entropy_grad(empty, t).shape == et.grad.shape == (0, 3)
    assert np.isnan(losses.cross_entropy_error(empty, t))
    assert losses.cross_entropy_error_grad(empty, t).shape == (0, 3)
    e = np.zeros(0)
    for ours, theirs in [(losses.mean_squared_error, F.mse_loss), (losses.mean_absolute_error, F.l1_loss),
                         (losses.binary_cross_entropy, F.binary_cross_entropy)]:
        assert np.isnan(ours(e, e)) and np.isnan(theirs(torch.tensor(e), torch.tensor(e)).item())
    assert losses.sum_squared_error(e, e) == F.mse_loss(torch.tensor(e), torch.tensor(e), reduction="sum").item() == 0


# --- delta rule, linear regression, gradients ----------------------------------------------------


DELTA_DATA = (np.zeros((1, 3)), np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1.0]]), np.array([0, 0, 1, 1.0]))


@pytest.mark.parametrize("variant", ["sgd", "batch", "minibatch"])
@pytest.mark.parametrize("batch_size", [-1, 0, 2.5])
def test_delta_rule_batch_size(variant, batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be an integer >= 1, got {batch_size}"):
        delta_rule.train(*DELTA_DATA, epochs=1, variant=variant, batch_size=batch_size)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        delta_rule.epoch(*DELTA_DATA, 0.9, variant=variant, batch_size=batch_size)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": "2"}, TypeError, "batch_size must be a real number"),
    ({"epochs": -1}, ValueError, "epochs must be an integer >= 0"),
    ({"alpha": "0.9"}, TypeError, "alpha must be a real number"),
    ({"variant": "online"}, ValueError, "variant must be one of"),
])
def test_delta_rule_train_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        delta_rule.train(*DELTA_DATA, **{"epochs": 1, **kwargs})


def test_delta_rule_data_shapes():
    W, X, D = DELTA_DATA
    with pytest.raises(ValueError, match=r"expected W0 \(1, n\), X \(N, n\) .* got W0\(1, 3\), X\(4,\)"):
        delta_rule.train(W, X[:, 0], D, epochs=1)
    with pytest.raises(ValueError, match=r"got W1\(4, 3\), W2\(1, 5\)"):
        delta_rule.train_two_layer(np.zeros((4, 3)), np.zeros((1, 5)), X, D, epochs=1)
    with pytest.raises(ValueError, match=r"got W\(1, 3\), x\(1, 2\), d\(1,\)"):
        delta_rule.delta(W, X[0, :2], D[0], 0.9)


def test_linear_regression_arguments():
    x = np.arange(4.0)
    with pytest.raises(TypeError, match="a must be a real number"):
        linear_regression.predict(x, "2", 1.0)
    with pytest.raises(ValueError, match=r"batches\[1\] holds indices in \[0, 7\]"):
        linear_regression.fit(x, x, 0.0, 0.0, 0.1, [np.arange(4), np.array([0, 7])])
    with pytest.raises(ValueError, match=r"batches\[0\] must be a non-empty 1-D array of integer indices"):
        linear_regression.fit(x, x, 0.0, 0.0, 0.1, [np.array([0.5])])
    with pytest.raises(TypeError, match="a0 must be a real number"):
        linear_regression.fit(x, x, None, 0.0, 0.1, [np.arange(4)])
    with pytest.raises(ValueError, match="x and y must hold at least one point"):
        linear_regression.squared_error_and_grads(np.zeros(0), np.zeros(0), 1.0, 0.0)


def test_gradient_functions_check_their_callables_and_values():
    with pytest.raises(TypeError, match="f must be callable"):
        gradients.numerical_diff(3.0, 1.0)
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        gradients.numerical_diff(np.sin, "1.0")
    with pytest.raises(ValueError, match="f must return a scalar"):
        gradients.numerical_gradient(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match=r"the value of grad_f must have shape \(2,\)"):
        gradients.gradient_descent(lambda x: np.ones(3), np.ones(2), 0.1, 2)
    with pytest.raises(ValueError, match=r"a and b must have the same shape"):
        gradients.relative_error(np.ones(3), np.ones((2, 3)))
    x = np.ones(2)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="x is read-only"):
        gradients.numerical_gradient(np.sum, x)


# --- initialisation, regularisation, search ------------------------------------------------------


@pytest.mark.parametrize("fn", [init.xavier_normal, init.xavier_uniform])
def test_xavier_names_the_gain(fn):
    with pytest.raises(ValueError, match="gain must be a finite number >= 0, got -1") as error:
        fn(np.random.default_rng(0), (3, 4), gain=-1)
    assert "std" not in str(error.value) and "bound" not in str(error.value)


@pytest.mark.parametrize("call, error, message", [
    (lambda: init.he_normal(42, (3, 4)), TypeError, "rng must be a numpy.random.Generator"),
    (lambda: init.zeros(None), TypeError, "shape must be a tuple"),
    (lambda: init.zeros((3, 2.5)), ValueError, r"shape\[1\] \(fan_out\) must be an integer >= 1"),
    (lambda: init.constant((3, 4), "0.5"), TypeError, "value must be a real number"),
    (lambda: init.normal(np.random.default_rng(0), (3, 4), "0.1"), TypeError, "std must be a real number"),
])
def test_init_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("call, error, message", [
    (lambda: regularization.l2_penalty(None, 0.1), TypeError, "weights must be a list of weight arrays"),
    (lambda: regularization.l1_penalty([np.ones(2), "w"], 0.1), TypeError, r"weights\[1\] must be a real numeric"),
    (lambda: regularization.l2_grad(np.ones(2), "0.1"), TypeError, "lam must be a real number"),
    (lambda: regularization.elastic_penalty([np.ones(2)], -1, 0.1), ValueError, "l1 must be a finite number >= 0"),
    (lambda: regularization.elastic_grad(np.ones(2), 0.1, float("nan")), ValueError, "l2 must be a finite number"),
    (lambda: regularization.EarlyStopping(patience=None), TypeError, "patience must be a real number"),
    (lambda: regularization.EarlyStopping(patience=float("inf")), ValueError, "patience must be an integer >= 1"),
    (lambda: regularization.EarlyStopping().step("0.5", {}), TypeError, "val_loss must be a real number"),
    (lambda: regularization.EarlyStopping().step(0.5, [np.ones(2)]), TypeError, "params must be a dict"),
])
def test_regularization_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_early_stopping_restores_only_into_arrays_of_the_same_shape():
    stopper = regularization.EarlyStopping()
    stopper.step(0.5, {"w": np.ones(3)})
    with pytest.raises(ValueError, match=r"params\['w'\] must have shape \(3,\)"):
        stopper.restore({"w": np.zeros(1)})  # NumPy would broadcast into it
    with pytest.raises(TypeError, match=r"params\['w'\] must be a writeable ndarray"):
        stopper.restore({"w": 0.0})
    with pytest.raises(ValueError, match="params has no entry 'w'"):
        stopper.restore({})


@pytest.mark.parametrize("call, error, message", [
    (lambda: search.sample_trials(3, {"lr": (-3, -1)}, 2), TypeError, "rng must be a numpy.random.Generator"),
    (lambda: search.sample_trials(np.random.default_rng(0), {"lr": -3}, 2), TypeError, r"ranges\['lr'\]"),
    (lambda: search.sample_trials(np.random.default_rng(0), {"lr": ("a", 1)}, 2), TypeError, r"ranges\['lr'\]"),
    (lambda: search.sample_trials(np.random.default_rng(0), {"lr": (-3, -1)}, None), TypeError, "n must be a real"),
    (lambda: search.narrow([{"lr": 0.1}], [0.5], 1.5), ValueError, "top_k must be an integer"),
    (lambda: search.narrow([{"lr": 0.1}], ["a"], 1), TypeError, "scores must be a real numeric array"),
    (lambda: search.narrow([{"lr": 0.1}, {"wd": 0.1}], [0.5, 0.2], 1), ValueError, r"trials\[1\] has the names"),
    (lambda: search.narrow([{"lr": 0.0}], [0.5], 1), ValueError, r"trials\[0\]\['lr'\] must be a finite value > 0"),
])
def test_search_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- what was here before ------------------------------------------------------------------------


def test_loss_shape_mismatch():
    with pytest.raises(ValueError, match=r"y and t must have the same shape"):
        losses.mean_squared_error(np.zeros(3), np.zeros(4))


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"expected every label in \[0, 3\)"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="integer class labels"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0]))


def test_targets_of_wrong_shape():
    with pytest.raises(ValueError, match=r"one-hot of shape \(2, 3\) or integer labels of shape \(2,\)"):
        losses.cross_entropy_error(np.full((2, 3), 1 / 3), np.zeros((2, 2)))


def test_probabilities_out_of_range():
    with pytest.raises(ValueError, match=r"y must hold probabilities in \[0, 1\]"):
        losses.cross_entropy_error(np.array([[1.5, -0.5]]), np.array([0]))
    with pytest.raises(ValueError, match="probabilities"):
        losses.binary_cross_entropy(np.array([2.0]), np.array([1.0]))


def test_negative_delta_lr_h():
    with pytest.raises(ValueError, match="delta must be a finite number >= 0"):
        losses.cross_entropy_error(np.array([[0.5, 0.5]]), np.array([0]), delta=-1)
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        gradients.gradient_descent(lambda x: x, np.ones(2), lr=-0.1, steps=3)
    with pytest.raises(ValueError, match="h must be a finite number > 0"):
        gradients.numerical_diff(np.sin, 1.0, h=0)
    with pytest.raises(ValueError, match="method must be one of"):
        gradients.numerical_diff(np.sin, 1.0, method="backward")
    with pytest.raises(ValueError, match="lr must be"):
        linear_regression.fit(np.ones(3), np.ones(3), 0, 0, -1, [np.arange(3)])


def test_layer_shapes():
    with pytest.raises(ValueError, match=r"W of shape \(in, out\) and b of shape \(out,\)"):
        layers.Linear(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="expects inputs with 3 features"):
        layers.Linear(np.zeros((3, 2)), np.zeros(2)).forward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="contains NaN"):
        layers.Linear(np.array([[np.nan]]), np.zeros(1))
    with pytest.raises(ValueError, match=r"maxout expects x \(N, in\)"):
        activations.maxout(np.zeros((2, 3)), np.zeros((2, 4, 5)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"maxout expects x \(N, in\)"):
        activations.maxout(np.float64(1.0), np.zeros((2, 1, 5)), np.zeros((2, 5)))


@pytest.mark.parametrize("x", [np.array(["a", "b"]), None, np.array([1 + 2j]), [object()]])
def test_non_numeric_input(x):
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        activations.sigmoid(x)


def test_numerical_gradient_needs_float_array():
    with pytest.raises(TypeError, match="floating-point ndarray"):
        gradients.numerical_gradient(np.sum, [1, 2, 3])
