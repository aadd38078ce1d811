"""Convolution (kinds ``layer``, ``function`` and ``network``): the book's ``Convolution(W, b,
stride, pad)`` and ``Pooling(pool_h, pool_w, stride, pad)``, its ``im2col``/``col2im``, and its
``SimpleConvNet``, against ``nn.Conv2d``, ``nn.MaxPool2d``, ``nn.AvgPool2d``, ``F.unfold``/``F.fold``
and ``torch_ref.conv.SimpleConvNet``. CS231n's ``conv_forward_naive``/``conv_backward_naive`` and
``max_pool_forward_naive``/``max_pool_backward_naive`` go through the same drivers
(:mod:`comparisons.pairs.functional`)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

import scratch.conv as SC
import scratch.layers as SL
import scratch.networks as SN
import torch_ref.conv as tconv
import torch_ref.layers as tlayers

from ._base import (NONFINITE, Comparison, Hparam, Mistake, Pair, VerifyUsageError, as_array, call, construct,
                    not_handed_on, param_grad)
from .layers import SoftmaxWithLossBookDelta
from .networks import NET_DATA, network_checks

# (x shape, W shape, stride, pad): stride 2 and 3, pad 1 and 2, non-square images and kernels, C > 1,
# overlapping windows (stride < filter) and a 1×1 filter
CONV_CASES = [((2, 1, 8, 8), (3, 1, 3, 3), 1, 0), ((2, 3, 7, 9), (4, 3, 3, 2), 2, 1), ((1, 2, 5, 6), (2, 2, 3, 3), 1, 2),
              ((3, 2, 10, 7), (5, 2, 5, 3), 2, 2), ((2, 3, 6, 6), (4, 3, 1, 1), 1, 0), ((2, 2, 9, 9), (3, 2, 4, 4), 3, 1)]


# (pool_h, pool_w, stride): the book's 2×2/2, overlapping and non-square windows
POOL_CASES = [(2, 2, 2), (3, 3, 2), (2, 3, 1), (3, 2, 1)]


def _conv_label(x_shape, w_shape, s, p):
    return f"x {'×'.join(map(str, x_shape))}, W {'×'.join(map(str, w_shape))}, stride {s}, pad {p}"


def _window_cases(hparams, run, cases):
    """The cases' stride and pad, or the ones given by --hparam for every case."""
    for x_shape, w_shape, s, p in cases:
        s = hparams["stride"] if "stride" in run.explicit else s
        p = hparams["pad"] if "pad" in run.explicit else p
        yield x_shape, w_shape, s, p


WEIGHT_NAMES = {"W": ("W", "w", "weight", "weights", "filters", "kernel"), "b": ("b", "bias", "biases")}


def load_weights(layer, values: dict) -> None:
    """Put the shared weights into a layer that made its own (a constructor taking sizes, as
    ``nn.Conv2d(in_channels, out_channels, kernel_size)``): into ``params[key]`` or the attribute
    the layer keeps it under, in place where the array is there already."""
    params = getattr(layer, "params", None)
    for key, value in values.items():
        for name in WEIGHT_NAMES[key]:
            holder = params if isinstance(params, dict) and name in params else None
            current = holder[name] if holder is not None else getattr(layer, name, None)
            if isinstance(current, np.ndarray) and current.shape == value.shape:
                current[...] = value
                break
        else:
            raise VerifyUsageError(f"the layer keeps no array of shape {value.shape} for {key} (looked for "
                                   f"params[...] and attributes {', '.join(WEIGHT_NAMES[key])})")


def conv_scales(ctx, x, W, b, dout, stride, pad) -> dict:
    """The sizes of the terms each result is summed from (for :func:`comparisons.checks.close`):
    the same convolution and backward pass on |x|, |W|, |b|, |dout|."""
    module = tconv.conv2d(ctx.tensor(np.abs(W)), ctx.tensor(np.abs(b)), stride, pad)
    y, dx = tlayers.forward_backward(module, ctx.tensor(np.abs(x)), ctx.tensor(np.abs(dout)))
    return {"forward": ctx.numpy(y), "dx": ctx.numpy(dx), "dW": ctx.numpy(module.weight.grad),
            "db": ctx.numpy(module.bias.grad)}


def drive_conv(ctx, pair, cls, hparams, run):
    """``Convolution(W, b, stride, pad)``: forward, dx, dW, db against ``nn.Conv2d`` on a grid of
    shapes (each case's stride and pad, unless given by --hparam)."""
    out = []
    pool = pair.options.get("pool", False)
    for x_shape, w_shape, s, p in _window_cases(hparams, run, CONV_CASES):
        if pool and min((n + 2 * p - f) // s + 1 for n, f in zip(x_shape[2:], w_shape[2:])) < 2:
            continue  # no 2×2 window to pool
        x = run.draw(ctx, lambda c: c.array(c.rng.normal(size=x_shape)))
        W, b = ctx.array(ctx.rng.normal(size=w_shape)), ctx.array(ctx.rng.normal(size=w_shape[0]))
        label = _conv_label(x_shape, w_shape, s, p)
        fn, c, fh, fw = w_shape
        given = {"W": W.copy(), "b": b.copy(), "in_channels": c, "out_channels": fn, "filter_num": fn,
                 "num_filters": fn, "kernel_size": (fh, fw), "filter_size": (fh, fw), "filter_h": fh, "filter_w": fw}
        layer = construct(cls, pair, {**hparams, "stride": s, "pad": p}, given, run)
        load_weights(layer, {"W": W, "b": b})
        module = pair.torch(ctx.tensor(W), ctx.tensor(b), s, p)
        conv = getattr(module, "conv", module)  # a sandwich's convolution
        with torch.no_grad():
            shape = tuple(module(ctx.tensor(x)).shape)
        y = as_array(call(layer.forward, f"forward on {label}", x.copy()), "forward's result", shape)
        dout = ctx.array(ctx.rng.normal(size=shape))
        y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
        if not_handed_on(run, y, shape, label):
            out.append(Comparison(f"forward, {label}", y, y_t))
            continue
        dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result", x.shape)
        sc = conv_scales(ctx, x, W, b, _through_pool(dout, ctx.numpy(conv(ctx.tensor(x))).shape) if pool else dout, s, p)
        if pool:
            sc["forward"] = None  # the pooled maximum of a window: judged as it is
        out += [Comparison(f"forward, {label}", y, y_t, scale=sc["forward"]),
                Comparison(f"backward dx, {label}", dx, dx_t, scale=sc["dx"]),
                Comparison(f"backward dW, {label}", param_grad(layer, "W"), conv.weight.grad, scale=sc["dW"]),
                Comparison(f"backward db, {label}", param_grad(layer, "b"), conv.bias.grad, scale=sc["db"])]
    return out


def _through_pool(dout, shape):
    """|dout| of a 2×2 pool spread over each of its windows (a bound on what any routing sends back),
    in the convolution's output ``shape``."""
    up = np.repeat(np.repeat(np.abs(dout), 2, axis=2), 2, axis=3)
    full = np.zeros(shape, dtype=up.dtype)
    h, w = min(shape[2], up.shape[2]), min(shape[3], up.shape[3])
    full[:, :, :h, :w] = up[:, :, :h, :w]
    return full


def pool_inputs(ctx):
    """Random images, images of the integers 0…2, whose windows are full of ties, and images of the
    integers −3…3 with NaN and ±inf at a fifth of the places. PyTorch's max pooling: a window holding
    a NaN gives NaN, and its gradient goes to the window's last NaN (row-major); a window of −inf
    gives −inf, its gradient to its first element. Average pooling: NaN and inf travel as in a sum."""
    specials = ctx.rng.integers(-3, 4, size=(2, 2, 6, 7)).astype(float)
    where = ctx.rng.random(specials.shape) < 0.2
    specials[where] = ctx.rng.choice(np.array([np.nan, np.inf, -np.inf]), size=int(where.sum()))
    return {"x 2×3×7×8": ctx.array(ctx.rng.normal(size=(2, 3, 7, 8))),
            "x 2×2×8×8 of integers 0…2 (ties)": ctx.array(ctx.rng.integers(0, 3, size=(2, 2, 8, 8))),
            f"x 2×2×6×7 of integers −3…3 and {NONFINITE}": ctx.array(specials)}


def drive_pool(ctx, pair, cls, hparams, run):
    """``Pooling(pool_h, pool_w, stride, pad)``: forward and dx against ``nn.MaxPool2d`` /
    ``nn.AvgPool2d`` for several windows (the given ones with --hparam) and inputs with ties."""
    given = {k for k in ("pool_h", "pool_w", "stride") if k in run.explicit}
    cases = [(hparams["pool_h"], hparams["pool_w"], hparams["stride"])] if given else POOL_CASES
    out = []
    for ph, pw, s in cases:
        hp = {**hparams, "pool_h": ph, "pool_w": pw, "stride": s}
        for label, x in pair.inputs(ctx).items():
            layer = construct(cls, pair, hp, {}, run)
            where = f"{ph}×{pw}, stride {s}, pad {hp['pad']}, {label}"
            module = pair.torch(ph, pw, s, hp["pad"], pair.options["mode"])
            with torch.no_grad():
                shape = tuple(module(ctx.tensor(x)).shape)
            y = as_array(call(layer.forward, f"forward on {where}", x.copy()), "forward's result", shape)
            dout = ctx.array(ctx.rng.uniform(0.5, 1.5, size=shape))
            y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
            out.append(Comparison(f"forward, {where}", y, y_t))
            if not_handed_on(run, y, shape, where):
                continue
            dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result", x.shape)
            out.append(Comparison(f"backward dx, {where}", dx, dx_t))
    return out


def drive_im2col(ctx, pair, fn, hparams, run):
    """``im2col(x, filter_h, filter_w, stride, pad)`` against ``F.unfold`` under the layout relation
    im2col(x) = unfold(x).transpose(1, 2).reshape(N·OH·OW, C·FH·FW)."""
    out = []
    for x_shape, (_, _, fh, fw), s, p in _window_cases(hparams, run, CONV_CASES):
        x = ctx.array(ctx.rng.normal(size=x_shape))
        col = as_array(call(fn, f"{getattr(fn, '__name__', 'im2col')}(x{x_shape}, {fh}, {fw}, {s}, {p})", x.copy(),
                            fh, fw, s, p), "its result")
        cols_t = pair.torch(ctx.tensor(x), fh, fw, s, p)
        out.append(Comparison(f"columns, {_conv_label(x_shape, (fh, fw), s, p)}", col,
                              cols_t.transpose(1, 2).reshape(-1, cols_t.shape[1])))
    run.notes.append("im2col(x) is compared with F.unfold(x).transpose(1, 2).reshape(N·OH·OW, C·FH·FW): one window "
                     "per row, its values ordered (c, p, q)")
    return out


def drive_col2im(ctx, pair, fn, hparams, run):
    """``col2im(col, input_shape, filter_h, filter_w, stride, pad)`` against ``F.fold`` (overlaps
    added), with col laid out as the book's im2col: (N·OH·OW, C·FH·FW)."""
    out = []
    for x_shape, (_, _, fh, fw), s, p in _window_cases(hparams, run, CONV_CASES):
        n, c, hh, ww = x_shape
        oh, ow = (hh + 2 * p - fh) // s + 1, (ww + 2 * p - fw) // s + 1
        col = ctx.array(ctx.rng.normal(size=(n * oh * ow, c * fh * fw)))
        img = as_array(call(fn, f"{getattr(fn, '__name__', 'col2im')}(col{col.shape}, {x_shape}, {fh}, {fw}, {s}, {p})",
                            col.copy(), x_shape, fh, fw, s, p), "its result")
        cols_t = ctx.tensor(col.reshape(n, oh * ow, c * fh * fw).transpose(0, 2, 1))
        abs_t = ctx.tensor(np.abs(col).reshape(n, oh * ow, c * fh * fw).transpose(0, 2, 1))
        out.append(Comparison(f"image, {_conv_label(x_shape, (fh, fw), s, p)}", img, pair.torch(cols_t, (hh, ww), fh, fw, s, p),
                              scale=ctx.numpy(pair.torch(abs_t, (hh, ww), fh, fw, s, p))))
    return out


CONVNET_INPUT, CONVNET_CLASSES = (1, 10, 10), 4


def drive_convnet(ctx, pair, cls, hparams, run):
    """A SimpleConvNet (conv → ReLU → 2×2 max pool → affine → ReLU → affine → softmax) built from
    the hyperparameters (filter_num, filter_size, pad, stride, hidden_size) on 1×10×10 images, its
    ``params`` (W1 of shape (FN, C, FH, FW)) set to shared values in place, then judged as every
    network is (:func:`network_checks`) against ``torch_ref.conv.SimpleConvNet``."""
    c, H, Wd = CONVNET_INPUT
    fn, fs, s, p, hidden = (int(hparams[k]) for k in ("filter_num", "filter_size", "stride", "pad", "hidden_size"))
    oh, ow = (H + 2 * p - fs) // s + 1, (Wd + 2 * p - fs) // s + 1
    if oh < 2 or ow < 2:
        raise VerifyUsageError(f"filter_size {fs}, stride {s} and pad {p} leave no 2×2 pool on {H}×{Wd} images")
    shapes = {"W1": (fn, c, fs, fs), "W2": (fn * (oh // 2) * (ow // 2), hidden), "W3": (hidden, CONVNET_CLASSES)}
    rng = ctx.rng
    params0 = {}
    for i, (key, shape) in enumerate(shapes.items(), start=1):
        fan_in = int(np.prod(shape[1:])) if key == "W1" else shape[0]
        params0[key] = ctx.array(rng.normal(0, np.sqrt(2 / fan_in), shape))
        params0[f"b{i}"] = ctx.array(rng.normal(0, 0.1, shape[0] if key == "W1" else shape[1]))
    given = {"params": {k: v.copy() for k, v in params0.items()}, "input_dim": CONVNET_INPUT,
             "conv_param": {"filter_num": fn, "filter_size": fs, "pad": p, "stride": s}, "num_filters": fn,
             "hidden_size": hidden, "hidden_dim": hidden, "output_size": CONVNET_CLASSES, "num_classes": CONVNET_CLASSES,
             "weight_init_std": 0.01, "weight_scale": 0.01}
    given["dtype"] = ctx.np_dtype
    net = construct(cls, pair, hparams, given, run)
    if not isinstance(getattr(net, "params", None), dict):
        raise VerifyUsageError(f"network {pair.id} expects {pair.interface}; the network has no params dict")
    own = _own_padding(net, fn, fs, s, (H, Wd), shapes["W2"][0])
    if own is not None and own != p:  # e.g. CS231n's ThreeLayerConvNet: pad (F − 1)/2, no pad hyperparameter
        run.notes.append(f"the convolution pads by {own} (read from the shape of W2; CS231n's ThreeLayerConvNet pads "
                         f"by (F − 1)/2), not {p}: PyTorch pads alike")
        hparams = {**hparams, "pad": own}
        return drive_convnet(ctx, pair, cls, hparams, run)
    x, labels = ctx.array(rng.normal(size=(NET_DATA[0], *CONVNET_INPUT))), rng.integers(0, CONVNET_CLASSES, NET_DATA[0])
    def another():  # its own copies of the arrays (a net may keep the dict it is given)
        return construct(cls, pair, hparams, {**given, "params": {k: v.copy() for k, v in params0.items()}}, run)

    return network_checks(ctx, pair, [net, another], params0, x, labels,
                          lambda: pair.torch(CONVNET_INPUT, fn, fs, s, p, 2, hidden, CONVNET_CLASSES), hparams, run)

def _own_padding(net, fn, fs, stride, hw, rows):
    """The padding a network built without a pad hyperparameter uses, read from the rows of its W2
    (FN·(OH/2)·(OW/2)); None when it takes the one given."""
    W2 = net.params.get("W2")
    if W2 is None or np.ndim(W2) != 2 or np.shape(W2)[0] == rows:
        return None
    for pad in range(fs):
        oh, ow = ((n + 2 * pad - fs) // stride + 1 for n in hw)
        if fn * (oh // 2) * (ow // 2) == np.shape(W2)[0]:
            return pad
    return None


# --- catalogued mistakes --------------------------------------------------------------------------


def _col2im_overwriting(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """col2im with ``=`` where it must ``+=``: a pixel under several windows keeps the last one's value."""
    n, c, h, w = input_shape
    oh, ow = (h + 2 * pad - filter_h) // stride + 1, (w + 2 * pad - filter_w) // stride + 1
    col = col.reshape(n, oh, ow, c, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for p in range(filter_h):
        for q in range(filter_w):
            img[:, :, p:p + stride * oh:stride, q:q + stride * ow:stride] = col[:, :, p, q]
    return img[:, :, pad:pad + h, pad:pad + w]


def _im2col_wrong_order(x, filter_h, filter_w, stride=1, pad=0):
    """im2col whose columns run over (p, q, c) instead of (c, p, q): transposed (0, 2, 3, 4, 5, 1)."""
    n, c = x.shape[:2]
    col = SC.im2col(x, filter_h, filter_w, stride, pad)
    return col.reshape(len(col), c, filter_h, filter_w).transpose(0, 2, 3, 1).reshape(len(col), -1)


def _col2im_wrong_order(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    c = input_shape[1]
    col = col.reshape(len(col), filter_h, filter_w, c).transpose(0, 3, 1, 2).reshape(len(col), -1)
    return SC.col2im(col, input_shape, filter_h, filter_w, stride, pad)


class ConvFlippedKernel(SC.Convolution):
    """True convolution: the kernel flipped in both spatial axes (and consistently in backward)."""

    def _flip(self):
        self.params["W"] = self.params["W"][:, :, ::-1, ::-1]

    def forward(self, x):
        self._flip()
        try:
            return super().forward(x)
        finally:
            self._flip()

    def backward(self, dout):
        self._flip()
        try:
            dx = super().backward(dout)
        finally:
            self._flip()
        self.grads["W"] = self.grads["W"][:, :, ::-1, ::-1]
        return dx


class ConvCol2imOverwrites(SC.Convolution):
    def backward(self, dout):
        self.needs_input_grad = False
        super().backward(dout)
        self.needs_input_grad = True
        x_shape, col = self._cache
        FN, C, FH, FW = self.params["W"].shape
        d = np.asarray(dout).transpose(0, 2, 3, 1).reshape(-1, FN)
        return _col2im_overwriting(d @ self.params["W"].reshape(FN, -1), x_shape, FH, FW, self.stride, self.pad)


class ConvIm2colWrongOrder(SC.Convolution):
    """im2col's columns in (p, q, c) order against W flattened in (c, p, q) order."""

    def forward(self, x):
        W = self.params["W"]
        FN, C, FH, FW = W.shape
        n, _, h, w = np.shape(x)
        oh, ow = SC.conv_output_size(h, FH, self.stride, self.pad), SC.conv_output_size(w, FW, self.stride, self.pad)
        col = _im2col_wrong_order(np.asarray(x), FH, FW, self.stride, self.pad)
        self._cache = (np.shape(x), col)
        return (col @ W.reshape(FN, -1).T + self.params["b"]).reshape(n, oh, ow, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        self.needs_input_grad = False
        super().backward(dout)
        self.needs_input_grad = True
        x_shape, _ = self._cache
        FN, C, FH, FW = self.params["W"].shape
        d = np.asarray(dout).transpose(0, 2, 3, 1).reshape(-1, FN)
        return _col2im_wrong_order(d @ self.params["W"].reshape(FN, -1), x_shape, FH, FW, self.stride, self.pad)


class ConvPaddingForgottenInBackward(SC.Convolution):
    """backward's col2im on the unpadded image (pad 0, the padded shape) cut at [0:H, 0:W]."""

    def backward(self, dout):
        self.needs_input_grad = False
        super().backward(dout)
        self.needs_input_grad = True
        (n, c, h, w), _ = self._cache
        FN, C, FH, FW = self.params["W"].shape
        P = self.pad
        d = np.asarray(dout).transpose(0, 2, 3, 1).reshape(-1, FN)
        img = SC.col2im(d @ self.params["W"].reshape(FN, -1), (n, c, h + 2 * P, w + 2 * P), FH, FW, self.stride, 0)
        return img[:, :, :h, :w]


def _pool_windows(layer, x):
    """(rows of one channel's window, (N, C, H, W), (OH, OW)) as the book's Pooling lays them out."""
    n, c, h, w = np.shape(x)
    oh = SC.conv_output_size(h, layer.pool_h, layer.stride, layer.pad)
    ow = SC.conv_output_size(w, layer.pool_w, layer.stride, layer.pad)
    col = SC.im2col(x, layer.pool_h, layer.pool_w, layer.stride, layer.pad, pad_value=-np.inf)
    return col.reshape(-1, layer.pool_h * layer.pool_w), (n, c, h, w), (oh, ow)


class PoolingGradientToEveryElement(SC.Pooling):
    """Max pooling whose backward hands dout to every element of the window."""

    def forward(self, x):
        self._x = np.asarray(x)
        return super().forward(x)

    def backward(self, dout):
        col, (n, c, h, w), (oh, ow) = _pool_windows(self, self._x)
        d = np.asarray(dout).transpose(0, 2, 3, 1).ravel()
        dcol = np.repeat(d[:, None], col.shape[1], axis=1).reshape(n * oh * ow, -1)
        return SC.col2im(dcol, (n, c, h, w), self.pool_h, self.pool_w, self.stride, self.pad)


class PoolingTiesToEveryMaximum(PoolingGradientToEveryElement):
    """Max pooling whose backward hands dout to every element equal to the maximum."""

    def backward(self, dout):
        col, (n, c, h, w), (oh, ow) = _pool_windows(self, self._x)
        d = np.asarray(dout).transpose(0, 2, 3, 1).ravel()
        dcol = (col == col.max(axis=1, keepdims=True)) * d[:, None]
        return SC.col2im(dcol.reshape(n * oh * ow, -1), (n, c, h, w), self.pool_h, self.pool_w, self.stride, self.pad)


class AvgPoolingNotDivided(SC.AvgPooling):
    def backward(self, dout):
        return super().backward(dout) * (self.pool_h * self.pool_w)


def convnet_with(**conv_layers):
    """scratch's SimpleConvNet with some layers replaced (a catalogued mistake)."""
    conv = SimpleNamespace(**{**vars(SC), **{k: v for k, v in conv_layers.items() if hasattr(SC, k)}})
    layers = SimpleNamespace(**{**vars(SL), **{k: v for k, v in conv_layers.items() if hasattr(SL, k)}})

    def build(params, stride=1, pad=0):
        return SN.SimpleConvNet(params, stride=stride, pad=pad, layers=layers, conv=conv)
    return build


# --- declarations ---------------------------------------------------------------------------------

STRIDE = Hparam("stride", 1, "stride", bounds="[1, inf)", integer=True)
PAD = Hparam("pad", 0, "padding", aliases=("padding",), bounds="[0, inf)", integer=True)
POOL = (Hparam("pool_h", 2, None, aliases=("pool_height",), bounds="[1, inf)", integer=True),
        Hparam("pool_w", 2, None, aliases=("pool_width",), bounds="[1, inf)", integer=True),
        Hparam("stride", 2, None, bounds="[1, inf)", integer=True),
        Hparam("pad", 0, None, aliases=("padding",), bounds="[0, inf)", integer=True))
FLIPPED = "a flipped kernel: this is true convolution (W[:, :, ::-1, ::-1]); deep learning's convolution, in " \
          "nn.Conv2d and the book, is cross-correlation and does not flip"
POOL_EVERY = "pooling backward routes dout to every element of the window; max pooling's gradient goes to the " \
             "window's maximum only (the first one on ties)"

PAIRS = [
    Pair("conv2d", "layer", "conv.Convolution", tconv.conv2d,
         "a class Convolution(W, b, stride, pad) with W (FN, C, FH, FW) and b (FN,): forward(x (N, C, H, W)) -> "
         "(N, FN, OH, OW), backward(dout) -> dx, and the gradients in grads['W'], grads['b'] or dW, db",
         drive_conv, (STRIDE, PAD), None,
         (Mistake(FLIPPED, ConvFlippedKernel),
          Mistake("col2im overwrites where windows overlap: a pixel under several windows must receive the SUM of "
                  "their gradients (+=, not =)", ConvCol2imOverwrites),
          Mistake("im2col's reshape in the wrong order: its columns run over (FH, FW, C) while W.reshape(FN, -1) runs "
                  "over (C, FH, FW); transpose the windows to (N, OH, OW, C, FH, FW) before the reshape",
                  ConvIm2colWrongOrder),
          Mistake("the padding is forgotten in backward: col2im must add into the padded (H + 2P, W + 2P) image and "
                  "then cut the border off, [P:P + H, P:P + W]", ConvPaddingForgottenInBackward)),
         ("Convolution", "Conv2d", "Conv", "ConvLayer", "Convolution2D")),
    Pair("max-pool", "layer", "conv.Pooling", tconv.pool2d,
         "a class Pooling(pool_h, pool_w, stride, pad) (max pooling): forward(x (N, C, H, W)) -> (N, C, OH, OW) and "
         "backward(dout) -> dx",
         drive_pool, POOL, pool_inputs,
         (Mistake(POOL_EVERY, PoolingGradientToEveryElement),
          Mistake("ties: the gradient goes to every element equal to the maximum; PyTorch (and np.argmax) give it "
                  "all to the first maximum of the window in row-major order", PoolingTiesToEveryMaximum)),
         ("Pooling", "MaxPooling", "MaxPool", "MaxPool2d", "MaxPooling2D"), {"mode": "max"}),
    Pair("avg-pool", "layer", "conv.AvgPooling", tconv.pool2d,
         "a class AvgPooling(pool_h, pool_w, stride, pad): forward(x (N, C, H, W)) -> (N, C, OH, OW) and "
         "backward(dout) -> dx",
         drive_pool, POOL, pool_inputs,
         (Mistake("average pooling backward is not divided by the window size: each of the pool_h·pool_w elements "
                  "gets dout/(pool_h·pool_w)", AvgPoolingNotDivided),),
         ("AvgPooling", "AveragePooling", "AvgPool", "AvgPool2d", "AveragePooling2D"), {"mode": "avg"}),
    Pair("im2col", "function", "conv.im2col", tconv.unfold,
         "a function im2col(x, filter_h, filter_w, stride, pad) -> (N·OH·OW, C·FH·FW), one window per row",
         drive_im2col, (STRIDE, PAD), None,
         (Mistake("im2col's reshape in the wrong order: the columns must run over (C, FH, FW), as W.reshape(FN, -1); "
                  "transpose the windows to (N, OH, OW, C, FH, FW) before the reshape", _im2col_wrong_order),),
         ("im2col",)),
    Pair("col2im", "function", "conv.col2im", tconv.fold,
         "a function col2im(col, input_shape, filter_h, filter_w, stride, pad) -> (N, C, H, W), overlaps added",
         drive_col2im, (STRIDE, PAD), None,
         (Mistake("col2im overwrites where windows overlap: a pixel under several windows must receive the SUM of "
                  "their values (+=, not =)", _col2im_overwriting),),
         ("col2im",)),
    Pair("simple-convnet", "network", "networks.SimpleConvNet", tconv.SimpleConvNet,
         "a class constructed from its parameter names (params, or input_dim, conv_param {filter_num, filter_size, "
         "pad, stride}, hidden_size, output_size, weight_init_std as the book's) with params W1 (FN, C, FH, FW), b1, "
         "W2, b2, W3, b3 and gradient(x, t) plus loss(x, t): conv → ReLU → 2×2 max pool → affine → ReLU → affine → "
         "softmax-with-loss",
         drive_convnet, (Hparam("filter_num", 3, None, bounds="[1, inf)", integer=True),
                         Hparam("filter_size", 3, None, bounds="[1, inf)", integer=True), STRIDE, PAD,
                         Hparam("hidden_size", 10, None, aliases=("hidden_dim",), bounds="[1, inf)", integer=True),
                         Hparam("lr", 0.1, "lr", aliases=("learning_rate",), bounds="[0, inf)"),
                         Hparam("delta", 0.0, None, bounds="[0, inf)")), None,
         (Mistake("the book's δ = 1e-7 inside the log of SoftmaxWithLoss: PyTorch has no δ",
                  convnet_with(SoftmaxWithLoss=SoftmaxWithLossBookDelta), flag={"delta": 1e-7}),
          Mistake(FLIPPED, convnet_with(Convolution=ConvFlippedKernel))),
         ("SimpleConvNet", "ConvNet", "ThreeLayerConvNet", "SimpleCNN", "CNN"),
         {"steps": 30}),  # a hand-written convolution loops over windows: 30 steps, each checked, as 100 would be
]
