"""CS231n's functional layers as layer objects, so that they run through the same drivers as the
book's classes: ``affine_forward(x, w, b) -> (out, cache)`` with ``affine_backward(dout, cache)
-> (dx, dw, db)``, and the same for relu, sigmoid, batchnorm (``bn_param`` with mode, eps,
momentum, running statistics), dropout (``dropout_param`` with mode and p, CS231n's *keep*
probability), layernorm (``ln_param`` with eps), ``conv_forward_naive``/``conv_backward_naive`` (``conv_param`` with stride and pad),
``max_pool_forward_naive``/``max_pool_backward_naive`` (``pool_param``), and assignment 3's
rnn_step, rnn, lstm_step, lstm and word_embedding."""

from __future__ import annotations

from ._base import call


class _Functional:
    forward_fn = backward_fn = None

    def __init__(self):
        self.training, self.grads, self._cache = True, {}, None

    def train(self):
        self.training = True

    def eval(self):
        self.training = False

    def _forward(self, *args):
        result = call(type(self).forward_fn, f"{type(self).forward_fn.__name__}", *args)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"{type(self).forward_fn.__name__} must return (out, cache)")
        out, self._cache = result
        return out

    def _backward(self, dout):
        return call(type(self).backward_fn, f"{type(self).backward_fn.__name__}", dout, self._cache)


class Affine(_Functional):
    def __init__(self, W, b):
        super().__init__()
        self.W, self.b = W, b

    def forward(self, x):
        return self._forward(x, self.W, self.b)

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = self._backward(dout)
        return dx


class Elementwise(_Functional):
    def forward(self, x):
        return self._forward(x)

    def backward(self, dout):
        return self._backward(dout)


class BatchNorm(_Functional):
    def __init__(self, gamma, beta, momentum=0.9, eps=1e-5):
        super().__init__()
        self.gamma, self.beta = gamma, beta
        self.bn_param = {"mode": "train", "eps": eps, "momentum": momentum}

    @property
    def running_mean(self):
        return self.bn_param.get("running_mean")

    @property
    def running_var(self):
        return self.bn_param.get("running_var")

    def forward(self, x):
        self.bn_param["mode"] = "train" if self.training else "test"
        return self._forward(x, self.gamma, self.beta, self.bn_param)

    def backward(self, dout):
        dx, self.grads["gamma"], self.grads["beta"] = self._backward(dout)
        return dx


class LayerNorm(_Functional):
    """``layernorm_forward(x, gamma, beta, ln_param)`` with ``ln_param = {'eps'}``, x (N, D)."""

    def __init__(self, gamma, beta, eps=1e-5):
        super().__init__()
        self.gamma, self.beta, self.ln_param = gamma, beta, {"eps": eps}

    def forward(self, x):
        return self._forward(x, self.gamma, self.beta, self.ln_param)

    def backward(self, dout):
        dx, self.grads["gamma"], self.grads["beta"] = self._backward(dout)
        return dx


class Dropout(_Functional):
    """``dropout_param['p']``: CS231n's *keep* probability from 2018 on (1 − PyTorch's p), its *drop*
    probability in 2016–2017 (PyTorch's p). Which one the code means is found by one forward pass in
    training with p = 0.8 (does it keep about 80 % of the units, or 20 %?), and named."""

    def __init__(self, p=0.5):
        super().__init__()
        keeps = self._keeps()
        self.dropout_param = {"mode": "train", "p": 1.0 - p if keeps else p}
        self._verify_note = ("dropout_param['p'] is the probability to keep a unit (CS231n from 2018 on): given "
                             f"1 − p = {1.0 - p:g} for PyTorch's p = {p:g}") if keeps else (
            "dropout_param['p'] is the probability to drop a unit (CS231n 2016–2017, PyTorch's p): given "
            f"p = {p:g}")

    @classmethod
    def _keeps(cls) -> bool:
        if "_keeps_p" not in cls.__dict__:
            import numpy as np

            state = np.random.get_state()
            try:
                out, _ = call(cls.forward_fn, f"{cls.forward_fn.__name__}", np.ones((100, 100)), {"mode": "train", "p": 0.8})
            finally:
                np.random.set_state(state)
            kept = float(np.mean(np.asarray(out) != 0))
            cls._keeps_p = abs(kept - 0.8) <= abs(kept - 0.2)
        return cls._keeps_p

    def forward(self, x):
        self.dropout_param["mode"] = "train" if self.training else "test"
        self.dropout_param.pop("seed", None)
        return self._forward(x, self.dropout_param)

    def backward(self, dout):
        return self._backward(dout)


class Conv(_Functional):
    """``conv_forward_naive(x, w, b, conv_param)`` with ``conv_param = {'stride', 'pad'}``."""

    def __init__(self, W, b, stride=1, pad=0):
        super().__init__()
        self.W, self.b, self.conv_param = W, b, {"stride": stride, "pad": pad}

    def forward(self, x):
        return self._forward(x, self.W, self.b, self.conv_param)

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = self._backward(dout)
        return dx


class ConvPool(Conv):
    """``conv_relu_pool_forward(x, w, b, conv_param, pool_param)`` with a 2×2 pool of stride 2."""

    def forward(self, x):
        return self._forward(x, self.W, self.b, self.conv_param, {"pool_height": 2, "pool_width": 2, "stride": 2})


class MaxPool(_Functional):
    """``max_pool_forward_naive(x, pool_param)`` with ``pool_param = {'pool_height', 'pool_width',
    'stride'}`` (CS231n's max pooling has no padding)."""

    def __init__(self, pool_h=2, pool_w=2, stride=2):
        super().__init__()
        self.pool_param = {"pool_height": pool_h, "pool_width": pool_w, "stride": stride}

    def forward(self, x):
        return self._forward(x, self.pool_param)

    def backward(self, dout):
        return self._backward(dout)


class RecurrentStep(_Functional):
    """``rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)`` with ``rnn_step_backward(dnext_h,
    cache) -> (dx, dprev_h, dWx, dWh, db)``, and the LSTM's (x, prev_h, prev_c, …) -> (next_h,
    next_c, cache) with (dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)."""

    def __init__(self, Wx, Wh, b):
        super().__init__()
        self.Wx, self.Wh, self.b = Wx, Wh, b

    def forward(self, x, *state):
        fn = type(self).forward_fn
        result = call(fn, fn.__name__, x, *state, self.Wx, self.Wh, self.b)
        if not (isinstance(result, tuple) and len(result) == len(state) + 1):
            raise TypeError(f"{fn.__name__} must return ({', '.join(['next_h', 'next_c'][:len(state)])}, cache)")
        *out, self._cache = result
        return tuple(out) if len(out) > 1 else out[0]

    def backward(self, *douts):
        fn = type(self).backward_fn
        result = call(fn, fn.__name__, *douts, self._cache)
        if not (isinstance(result, tuple) and len(result) == len(douts) + 4):
            raise TypeError(f"{fn.__name__} must return (dx, dprev_h{', dprev_c' if len(douts) == 2 else ''}, dWx, dWh, db)")
        *d, self.grads["Wx"], self.grads["Wh"], self.grads["b"] = result
        return tuple(d)


class RecurrentSequence(RecurrentStep):
    """``rnn_forward(x, h0, Wx, Wh, b) -> (h, cache)`` with ``rnn_backward(dh, cache) -> (dx, dh0,
    dWx, dWh, db)``, and lstm_forward/lstm_backward alike (CS231n's LSTM starts from c0 = 0)."""

    def forward(self, xs, h0):
        return super().forward(xs, h0)

    def backward(self, dhs):
        return super().backward(dhs)


class WordEmbedding(_Functional):
    """``word_embedding_forward(x, W) -> (out, cache)`` with ``word_embedding_backward(dout, cache) -> dW``."""

    def __init__(self, W):
        super().__init__()
        self.W = W

    def forward(self, idx):
        return self._forward(idx, self.W)

    def backward(self, dout):
        self.grads["W"] = self._backward(dout)


class GroupNorm(_Functional):
    """``spatial_groupnorm_forward(x, gamma, beta, G, gn_param)`` with γ, β of shape (1, C, 1, 1) (2019
    onwards) and ``gn_param = {'eps'}``; the gradients of γ, β read back as (C,)."""

    def __init__(self, num_groups, gamma, beta, eps=1e-5):
        super().__init__()
        shape = (1, -1, 1, 1)
        self.G, self.gamma, self.beta, self.gn_param = num_groups, gamma.reshape(shape), beta.reshape(shape), {"eps": eps}

    def forward(self, x):
        return self._forward(x, self.gamma, self.beta, self.G, self.gn_param)

    def backward(self, dout):
        dx, dgamma, dbeta = self._backward(dout)
        self.grads["gamma"], self.grads["beta"] = (dgamma.reshape(-1), dbeta.reshape(-1))
        return dx


# stem of X_forward / X_backward → (layer pair id, adapter class)
ADAPTERS = {"affine": ("linear", Affine), "relu": ("relu", Elementwise), "sigmoid": ("sigmoid", Elementwise),
            "tanh": ("tanh", Elementwise), "batchnorm": ("batchnorm", BatchNorm), "layernorm": ("layer-norm", LayerNorm), "dropout": ("dropout", Dropout),
            "conv": ("conv2d", Conv), "maxpool": ("max-pool", MaxPool),
            "rnnstep": ("rnn-step", RecurrentStep), "rnn": ("rnn", RecurrentSequence),
            "lstmstep": ("lstm-step", RecurrentStep), "lstm": ("lstm", RecurrentSequence),
            "wordembedding": ("embedding", WordEmbedding), "temporalaffine": ("time-affine", Affine),
            "spatialbatchnorm": ("spatial-batchnorm", BatchNorm),
            "spatialgroupnorm": ("groupnorm", GroupNorm), "groupnorm": ("groupnorm", GroupNorm),
            "affinerelu": ("linear-relu", Affine), "convrelu": ("conv-relu", Conv), "convrelupool": ("conv-relu-pool", ConvPool)}


def adapter(stem: str, forward_fn, backward_fn):
    """A layer class wrapping ``<stem>_forward`` and ``<stem>_backward``, or None for an unknown stem."""
    if stem not in ADAPTERS:
        return None
    pid, base = ADAPTERS[stem]
    cls = type(f"{stem}_forward/{stem}_backward", (base,),
               {"forward_fn": staticmethod(forward_fn), "backward_fn": staticmethod(backward_fn)})
    return pid, cls



# --- optim.py's update rules: (w, dw, config) -> (next_w, config) -----------------------------------

# the optimizer pairs' hyperparameters under the names CS231n's config dict gives them
CONFIG_KEYS = {"lr": "learning_rate", "momentum": "momentum", "decay_rate": "decay_rate", "eps": "epsilon",
               "beta1": "beta1", "beta2": "beta2", "weight_decay": "weight_decay"}
# rule name (normalised) → optimizer pair id
RULES = {"sgd": "sgd", "sgdmomentum": "momentum", "momentum": "momentum", "nesterov": "nesterov",
         "nesterovmomentum": "nesterov", "sgdnesterov": "nesterov", "adagrad": "adagrad", "rmsprop": "rmsprop",
         "adam": "adam", "adamw": "adamw"}


class RuleOptimizer:
    """A functional update rule ``rule(w, dw, config) -> (next_w, config)`` (CS231n's ``optim.py``) as
    an optimizer object: one ``config`` per parameter, holding the hyperparameters under CS231n's names
    (``learning_rate``, ``momentum``, ``decay_rate``, ``epsilon``, ``beta1``, ``beta2``) and whatever
    state the rule keeps there (``velocity``, ``cache``, ``m``, ``v``, ``t``)."""

    rule = None

    def __init__(self, **hparams):
        self.base = {CONFIG_KEYS[k]: v for k, v in hparams.items() if k in CONFIG_KEYS}
        self.configs = {}

    def update(self, params, grads):
        rule = type(self).rule
        for k in params:
            config = self.configs.get(k, dict(self.base))
            result = call(rule, f"{rule.__name__}(w, dw, config)", params[k], grads[k], config)
            if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
                raise TypeError(f"{rule.__name__} must return (next_w, config)")
            next_w, self.configs[k] = result
            params[k] = next_w


def is_rule(fn) -> bool:
    """Whether ``fn`` has the signature of an update rule: ``(w, dw, config=None)``."""
    from ._base import parameters

    params = list((parameters(fn) or {}).values())
    return len(params) == 3 and params[2].name == "config"


def rule_optimizer(name: str, fn):
    """(optimizer pair id, an optimizer class around ``fn``), or None when ``name`` is not a known rule."""
    pid = RULES.get(name.lower().replace("_", ""))
    if pid is None or not is_rule(fn):
        return None
    return pid, type(name, (RuleOptimizer,), {"rule": staticmethod(fn)})
