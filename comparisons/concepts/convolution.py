"""Convolutional networks (the book's ch. 7): im2col, convolution, pooling, BatchNorm2d and the
book's SimpleConvNet, against nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, F.unfold and nn.BatchNorm2d."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.conv as tconv
import torch_ref.layers as tlayers
import torch_ref.losses as tloss

from .. import bridge, data, pairs, plots, sides, timing
from ..checks import batchnorm_term_scales
from ..lockstep import train
from ..pairs import DriveOptions
from ..sides import Architecture
from ..training import AccuracyTracker, record_accuracies

# (pool_h, pool_w, stride, pad): the book's 2×2/2, overlapping windows, padding, non-square
POOLS = [(2, 2, 2, 0), (3, 3, 2, 1), (2, 3, 1, 0), (3, 2, 2, 1), (2, 2, 1, 1)]
BOOK_EXAMPLES = [((4, 4), (3, 3), 1, 1), ((7, 7), (3, 3), 0, 2), ((28, 31), (5, 5), 2, 3), ((28, 28), (5, 5), 0, 1)]
BOOK_LAYER = timing.BOOK_CONV_LAYER
LR = 0.002
GRADCHECK_SIDE = 12


IM2COL_RELATION = "im2col = unfold(x).transpose(1, 2).reshape(N·OH·OW, C·FH·FW)"
COL2IM_RELATION = "col2im = fold(col.reshape(N, OH·OW, C·FH·FW).transpose(1, 2))"
FIRST = "x 2×3×7×9, W 4×3×3×2, stride 2, pad 1"  # the grid's second case (see pairs.convolution.CONV_CASES)


def run(ctx):
    _output_sizes(ctx)
    _convolution(ctx)
    _pooling(ctx)
    _ties(ctx)
    _batchnorm2d(ctx)
    training = _network(ctx)
    _timing(ctx)
    _outcomes(ctx, training)


def _worst(ctx, prefix):
    """The largest max_abs_err over the checks whose name starts with ``prefix``, and their count."""
    errs = [r.max_abs_err for r in ctx.records if r.check.startswith(prefix) and r.max_abs_err is not None]
    return (f"{max(errs):.1e} over {len(errs)} checks" if errs else "–")


def _outcomes(ctx, training):
    rows = [
        ("im2col − unfold(x).transpose(1, 2).reshape(…), largest |difference|", _worst(ctx, IM2COL_RELATION)),
        ("col2im − F.fold, largest |difference|", _worst(ctx, COL2IM_RELATION)),
        ("Convolution (im2col) − nn.Conv2d, largest |difference| (forward, dx, dW, db)",
         _worst(ctx, "Convolution (im2col)")),
        ("ConvolutionLoops − nn.Conv2d, largest |difference|", _worst(ctx, "Convolution (loops)")),
        ("max pooling dx on windows with ties − PyTorch's, largest |difference|",
         _worst(ctx, "max pooling with ties: dx")),
        ("BatchNorm2d − nn.BatchNorm2d, largest |difference| (incl. running statistics)", _worst(ctx, "BatchNorm2d")),
        ("backprop − autograd, SimpleConvNet gradients", _worst(ctx, "backprop vs autograd")),
        ("backprop − numerical gradient (h = 1e-5)", _worst(ctx, "backprop vs numerical")),
        *training,
    ]
    ctx.table("outcomes", pd.DataFrame(rows, columns=["quantity", f"value ({ctx.dtype})"]))


# --- the layers -----------------------------------------------------------------------------------


def _output_sizes(ctx):
    rows = []
    for (h, w), (fh, fw), pad, stride in BOOK_EXAMPLES:
        oh = ctx.impl.conv.conv_output_size(h, fh, stride, pad)
        ow = ctx.impl.conv.conv_output_size(w, fw, stride, pad)
        layer = tconv.conv2d(torch.zeros(1, 1, fh, fw, dtype=ctx.torch_dtype), torch.zeros(1, dtype=ctx.torch_dtype),
                             stride, pad)
        shape_t = tuple(layer(torch.zeros(1, 1, h, w, dtype=ctx.torch_dtype)).shape[2:])
        rows.append({"input": f"{h}×{w}", "filter": f"{fh}×{fw}", "pad": pad, "stride": stride,
                     "(H + 2P − FH)/S + 1": f"{oh}×{ow}", "nn.Conv2d": f"{shape_t[0]}×{shape_t[1]}"})
        ctx.compare(f"output size {h}×{w}, filter {fh}×{fw}, pad {pad}, stride {stride}", np.array([oh, ow]),
                    np.array(shape_t))
    ctx.table("output-sizes", pd.DataFrame(rows))


def _convolution(ctx):
    """Both NumPy forms against nn.Conv2d, im2col against F.unfold and col2im against F.fold, on
    the grid of the verify declarations (comparisons/pairs/convolution.py): the same driver judges
    scratch here and a user's code in ``verify``."""
    for pid, form, obj in (("conv2d", "Convolution (im2col)", ctx.impl.conv.Convolution),
                           ("conv2d", "Convolution (loops)", ctx.impl.conv.ConvolutionLoops),
                           ("im2col", IM2COL_RELATION, ctx.impl.conv.im2col),
                           ("col2im", COL2IM_RELATION, ctx.impl.conv.col2im)):
        pair = pairs.get("layer" if pid == "conv2d" else "function", pid)
        for c in pairs.compare(ctx, pair, obj, options=DriveOptions()):
            ctx.compare(f"{form}: {c.label}", c.actual, c.expected, scale=c.scale)


def _pooling(ctx):
    x = ctx.array(ctx.rng.normal(size=(2, 3, 7, 8)))
    for ph, pw, s, p in POOLS:
        for mode in ("max", "avg"):
            layer = ctx.impl.conv.Pooling(ph, pw, stride=s, pad=p, mode=mode)
            y = layer.forward(x)
            dout = ctx.array(ctx.rng.normal(size=y.shape))
            dx = layer.backward(dout)
            y_t, dx_t = tlayers.forward_backward(tconv.pool2d(ph, pw, s, p, mode), ctx.tensor(x), ctx.tensor(dout))
            label = f"{mode} pooling {ph}×{pw}, stride {s}, pad {p}"
            ctx.compare(f"{label}: forward", y, y_t)
            ctx.compare(f"{label}: dx", dx, dx_t)


def _ties(ctx):
    """Windows full of ties (integers 0…2): both sides route the gradient to the same element."""
    x = ctx.array(ctx.rng.integers(0, 3, size=(4, 2, 8, 8)))
    rows = []
    for ph, pw, s, p in POOLS:
        layer = ctx.impl.conv.Pooling(ph, pw, stride=s, pad=p)
        y = layer.forward(x)
        dout = ctx.array(ctx.rng.uniform(1.0, 2.0, size=y.shape))
        dx = layer.backward(dout)
        _, dx_t = tlayers.forward_backward(tconv.pool2d(ph, pw, s, p), ctx.tensor(x), ctx.tensor(dout))
        ctx.compare(f"max pooling with ties: dx, {ph}×{pw}, stride {s}, pad {p}", dx, dx_t)
        windows = tconv.unfold(torch.nn.functional.pad(ctx.tensor(x), (p,) * 4, value=-np.inf), ph, pw, s)
        windows = ctx.numpy(windows.transpose(1, 2).reshape(-1, ph * pw))
        tied = int(np.sum((windows == windows.max(axis=1, keepdims=True)).sum(axis=1) > 1))
        rows.append({"pool": f"{ph}×{pw}, stride {s}, pad {p}", "windows": len(windows), "windows with a tie": tied})
    ctx.finding("max pooling with ties: the windows hold ties", all(r["windows with a tie"] > 0 for r in rows),
                "; ".join(f"{r['pool']}: {r['windows with a tie']} of {r['windows']}" for r in rows))
    ctx.compare("max pooling with ties: dx", *_constant_image(ctx))
    ctx.figure("ties", lambda: _plot_ties(*_constant_image(ctx)))
    ctx.table("ties", pd.DataFrame(rows))


def _constant_image(ctx):
    x = ctx.array(np.ones((1, 1, 4, 4)))
    layer = ctx.impl.conv.Pooling(2, 2, stride=2)
    layer.forward(x)
    dx = layer.backward(ctx.array(np.ones((1, 1, 2, 2))))
    _, dx_t = tlayers.forward_backward(tconv.pool2d(2, 2, 2), ctx.tensor(x), ctx.tensor(np.ones((1, 1, 2, 2))))
    return dx[0, 0], ctx.numpy(dx_t)[0, 0]


def _batchnorm2d(ctx):
    c = 3
    gamma, beta = ctx.array(ctx.rng.uniform(0.5, 1.5, c)), ctx.array(ctx.rng.normal(size=c))
    layer = ctx.impl.conv.BatchNorm2d(gamma.copy(), beta.copy(), momentum=0.9)
    module = tconv.batchnorm2d(ctx.tensor(gamma), ctx.tensor(beta), momentum=0.1)
    for step in (1, 2):
        x = ctx.array(ctx.rng.normal(2.0, 3.0, size=(4, c, 5, 6)))
        dout = ctx.array(ctx.rng.normal(size=x.shape))
        y = layer.forward(x)
        dx = layer.backward(dout)
        module.zero_grad()
        y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
        ctx.compare(f"BatchNorm2d step {step}: forward", y, y_t)
        ctx.compare(f"BatchNorm2d step {step}: dx", dx, dx_t)
        sc = batchnorm_term_scales(x, dout, axes=(0, 2, 3))  # sums over 120 values per channel can cancel
        ctx.compare(f"BatchNorm2d step {step}: dgamma", layer.grads["gamma"], module.weight.grad, scale=sc["dgamma"])
        ctx.compare(f"BatchNorm2d step {step}: dbeta", layer.grads["beta"], module.bias.grad, scale=sc["dbeta"])
    ctx.compare("BatchNorm2d: running_mean after two steps", layer.running_mean, module.running_mean)
    ctx.compare("BatchNorm2d: running_var after two steps", layer.running_var, module.running_var,
                note="unbiased over the N·H·W = 120 values of a channel, as PyTorch stores it")
    x = ctx.array(ctx.rng.normal(2.0, 3.0, size=(4, c, 5, 6)))
    module.eval()
    with torch.no_grad():
        y_t = module(ctx.tensor(x))
    ctx.compare("BatchNorm2d in evaluation: forward with the running statistics", layer.eval().forward(x), y_t)


# --- the book's SimpleConvNet ---------------------------------------------------------------------


def net_config(side: int) -> dict:
    """The book's layer on 28×28 MNIST; on the 8×8 digits, 16 filters of 3×3 with padding 1."""
    if side >= 28:
        return {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1, "hidden": 100}
    return {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1, "hidden": 50}


def convnet_params(rng, input_dim, cfg, classes=10, std=None) -> dict:
    """Shared initial weights, W1 (FN, C, FH, FW): He's N(0, 2/fan_in) for ReLU (the book's ch. 6;
    its SimpleConvNet takes weight_init_std = 0.01, which trains more slowly) unless ``std`` is
    given; biases 0. fan_in is C·FH·FW for a filter, the row count for an affine W."""
    c, h, w = input_dim
    fn, fs = cfg["filter_num"], cfg["filter_size"]
    oh = (h + 2 * cfg["pad"] - fs) // cfg["stride"] + 1
    ow = (w + 2 * cfg["pad"] - fs) // cfg["stride"] + 1
    shapes = {"W1": (fn, c, fs, fs), "W2": (fn * (oh // 2) * (ow // 2), cfg["hidden"]), "W3": (cfg["hidden"], classes)}
    params = {}
    for i, (key, shape) in enumerate(shapes.items(), start=1):
        fan_in = int(np.prod(shape[1:])) if key == "W1" else shape[0]
        params[key] = rng.normal(0, np.sqrt(2.0 / fan_in) if std is None else std, shape)
        params[f"b{i}"] = np.zeros(shape[0] if key == "W1" else shape[1])
    return params


def convnet(input_dim, cfg) -> Architecture:
    """SimpleConvNet on both sides (for :func:`comparisons.sides.network`)."""
    def numpy_net(impl, params, activation, **kw):
        return impl.networks.SimpleConvNet(params, stride=cfg["stride"], pad=cfg["pad"], pool=2, layers=impl.layers,
                                           conv=impl.conv)

    def torch_model(params, activation, **kw):
        fn, _, fs, _ = params["W1"].shape
        return tconv.SimpleConvNet(input_dim, fn, fs, cfg["stride"], cfg["pad"], 2, params["W2"].shape[1],
                                   params["W3"].shape[1])

    return Architecture(numpy_net, torch_model)


def _images(x):
    side = int(round(np.sqrt(x.shape[1])))
    return x.reshape(len(x), 1, side, side)


def _network(ctx):
    x_tr, t_tr, x_te, t_te = data.image_data(ctx)
    x_tr, x_te = _images(x_tr), _images(x_te)
    input_dim = x_tr.shape[1:]
    cfg = net_config(input_dim[1])
    arch = convnet(input_dim, cfg)
    crop = (input_dim[1] - GRADCHECK_SIDE) // 2 if input_dim[1] > GRADCHECK_SIDE else 0
    _three_way(ctx, x_tr[:2, :, crop:input_dim[1] - crop, crop:input_dim[2] - crop], t_tr[:2])
    params0 = convnet_params(ctx.rng, input_dim, cfg)
    epochs = ctx.size(14, 7)
    per_epoch = int(np.ceil(len(x_tr) / 100))
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, epochs)
    n_eval = min(len(x_tr), 300)
    tracker = AccuracyTracker(ctx, x_tr[:n_eval], t_tr[:n_eval], x_te, t_te)
    label = "SimpleConvNet training"
    run_ = train(ctx, label, *sides.network(ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.Adam(LR),
                                            lambda ps: torch.optim.Adam(ps, lr=LR), sides.Setup(architecture=arch)),
                 batches, steps_per_epoch=per_epoch, on_epoch=tracker, note=f"Adam lr {LR}, batch 100.")
    frame = tracker.frame()
    record_accuracies(ctx, f"{label}: accuracy per epoch", [tracker])
    last = frame.iloc[-1]
    goal = ctx.value("test accuracy goal", 0.95 if input_dim[1] >= 28 else 0.9)  # MNIST 28×28; the 8×8 digits
    ctx.finding("test accuracy reaches the set-up's goal on both sides",
                bool(last["test NumPy"] >= goal and last["test torch"] >= goal),
                f"goal {goal} ({input_dim[1]}×{input_dim[2]} images): NumPy {last['test NumPy']:.4f}, PyTorch "
                f"{last['test torch']:.4f} after {len(batches)} steps")
    ctx.value("test accuracy NumPy", float(last["test NumPy"]))
    ctx.value("test accuracy PyTorch", float(last["test torch"]))
    ctx.value("training steps", len(batches))
    ctx.value("epochs", epochs)
    ctx.value("training images", len(x_tr))
    ctx.value("test images", len(x_te))
    ctx.value("image side", int(input_dim[1]))
    ctx.table("accuracy", frame)
    lockstep = run_.lockstep.records
    training = [
        ("images (train / test)", f"{len(x_tr)} / {len(x_te)} of {input_dim[1]}×{input_dim[2]}"),
        ("training steps (Adam, batch 100), each compared in lockstep", str(len(batches))),
        ("lockstep: largest |difference| of the parameters after a step",
         f"{lockstep['parameters after the step'].max_abs_err:.1e}"),
        ("test accuracy after training, NumPy / PyTorch", f"{last['test NumPy']:.4f} / {last['test torch']:.4f}"),
    ]
    ctx.value("lockstep: largest parameter difference", lockstep["parameters after the step"].max_abs_err)
    if run_.free_running:
        final = next(r for r in ctx.records if r.check == f"{label}: final parameters (free-running)")
        training.append(("free-running: largest |difference| of the final parameters", f"{final.max_abs_err:.1e}"))
        ctx.value("free-running: largest final parameter difference", final.max_abs_err)
    ctx.figure("accuracy", lambda: plots.accuracy_and_loss(frame, run_.losses_np, run_.losses_t,
                                                           "SimpleConvNet: accuracy per epoch"))
    ctx.figure("filters", lambda: _plot_filters(params0["W1"], run_.params_np["W1"], run_.params_t["W1"]))
    digit = x_te[:1]
    ctx.figure("feature-maps", lambda: _plot_feature_maps(ctx, digit, run_, cfg))
    return training


GRADCHECK_H = 1e-5  # CS231n's step: truncation (h²) and rounding (ε/h) error both ~1e-10 here
KINK_MARGIN = 3e-4  # 30·h: a parameter moved by ±h moves a pre-activation by at most h·|its input| (inputs ≤ 1 here)


def kink_distance(arch, params, x) -> float:
    """How far the net at ``params`` is from its kinks on ``x``: the smallest |pre-activation| of
    either ReLU and the smallest gap between a pooling window's largest value (where > 0) and its
    next smaller one. A finite difference across a kink measures neither side's slope."""
    with torch.no_grad():
        model = bridge.load_mlp(arch.torch(params, "relu").double(), params)
        conv, relu, pool, flat = model.features
        z1 = conv(torch.as_tensor(x, dtype=torch.float64))
        k = pool.kernel_size
        windows = tconv.unfold(relu(z1).flatten(0, 1).unsqueeze(1), k, k, pool.stride)  # (N·FN, k·k, L)
        top = windows.max(dim=1, keepdim=True).values
        below = torch.where(windows < top, windows, -torch.inf).max(dim=1, keepdim=True).values
        gaps = (top - below)[top > 0]  # exact ties are identical patches (blank ones): they stay tied
        pooled = flat(pool(relu(z1)))
        z2 = model.classifier[0](pooled)
    # W2 moved by ±h moves z2 by up to h·|pooled|: measured in units of max(1, |pooled|)
    return float(min(z1.abs().min(), z2.abs().min() / max(1.0, float(pooled.abs().max())),
                     gaps.min() if gaps.numel() else np.inf))


def _three_way(ctx, x, t):
    """backprop vs numerical vs autograd on a small SimpleConvNet (4 filters, 10 hidden units) and
    two images (their central 12×12 on MNIST: two forward passes per parameter)."""
    input_dim = x.shape[1:]
    cfg = {**net_config(input_dim[1]), "filter_num": 4, "hidden": 10}
    arch = convnet(input_dim, cfg)
    for draw in range(1, 51):  # a point where no central difference straddles a kink
        params0 = convnet_params(ctx.rng, input_dim, cfg, std=0.3)
        for key in ("b1", "b2", "b3"):  # away from 0: a blank patch's output is b1, at ReLU's kink when b1 = 0
            params0[key] = ctx.rng.choice([-1, 1], params0[key].shape) * ctx.rng.uniform(0.05, 0.3, params0[key].shape)
        distance = kink_distance(arch, params0, x)
        if distance > KINK_MARGIN:
            break
    ctx.finding(f"the gradient check's point lies at least {KINK_MARGIN:g} from every kink", distance > KINK_MARGIN,
                f"closest pre-activation to ReLU's kink or top-two gap of a pooling window: {distance:.1e} "
                f"(parameters drawn {draw} time(s)); central differences step h = {GRADCHECK_H:g}")
    net = arch.numpy(ctx.impl, {k: ctx.array(v) for k, v in params0.items()}, "relu")
    x = ctx.array(x)
    backprop = net.gradient(x, t)
    net64 = arch.numpy(ctx.impl, {k: np.array(v, dtype=np.float64) for k, v in params0.items()}, "relu")
    numerical = net64.numerical_gradient(np.asarray(x, dtype=np.float64), t, h=GRADCHECK_H)
    model = bridge.load_mlp(arch.torch(params0, "relu").to(dtype=ctx.torch_dtype, device=ctx.device), params0)
    tloss.softmax_cross_entropy(model(ctx.tensor(x)), ctx.labels(t)).backward()
    autograd = bridge.mlp_arrays(model, grad=True)
    label = f"SimpleConvNet {cfg['filter_num']} filters {cfg['filter_size']}×{cfg['filter_size']}, {cfg['hidden']} hidden"
    for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
        ctx.compare(f"backprop vs autograd, {label}: {key}", backprop[key], autograd[key])
        ctx.compare(f"backprop vs numerical, {label}: {key}", backprop[key], numerical[key], kind="gradcheck")
        ctx.compare(f"numerical vs autograd, {label}: {key}", numerical[key], autograd[key], kind="gradcheck")


def _timing(ctx):
    if not ctx.artifacts:
        return
    frame = pd.DataFrame(timing.conv_layer(ctx.impl, seed=ctx.seed, dtype=ctx.np_dtype))
    ctx.table("timing", frame.round({"median ms": 2, "÷ nn.Conv2d": 2}))
    ctx.figure("timing", lambda: _plot_timing(frame))


# --- figures --------------------------------------------------------------------------------------


def _plot_filters(before, after_np, after_t):
    import matplotlib.pyplot as plt

    fn = before.shape[0]
    cols = min(fn, 10)
    rows = int(np.ceil(fn / cols))
    panels = [("before training (shared)", before), ("after training, NumPy", after_np),
              ("after training, PyTorch", after_t)]
    fig, axes = plt.subplots(rows * len(panels), cols, figsize=(cols * 0.75, rows * len(panels) * 0.85), squeeze=False)
    for k, (title, W) in enumerate(panels):
        for f in range(rows * cols):
            ax = axes[k * rows + f // cols, f % cols]
            ax.set_xticks([])
            ax.set_yticks([])
            if f < fn:
                ax.imshow(W[f, 0], cmap="gray_r", interpolation="nearest")
            else:
                ax.set_visible(False)
        axes[k * rows, 0].set_title(title, fontsize=8, loc="left")
    fig.tight_layout(pad=0.3)
    return fig


def _plot_feature_maps(ctx, digit, run_, cfg):
    import matplotlib.pyplot as plt

    layer = ctx.impl.conv.Convolution(run_.params_np["W1"], run_.params_np["b1"], cfg["stride"], cfg["pad"])
    maps_np = np.maximum(layer.forward(ctx.array(digit)), 0)[0]
    with torch.no_grad():
        maps_t = ctx.numpy(run_.torch.model.features[:2](ctx.tensor(digit)))[0]
    k = min(len(maps_np), 8)
    fig, axes = plt.subplots(2, k + 1, figsize=((k + 1) * 1.0, 2.7), squeeze=False)
    for r, (side, maps) in enumerate((("NumPy", maps_np), ("PyTorch", maps_t))):
        axes[r, 0].imshow(digit[0, 0], cmap="gray_r")
        axes[r, 0].set_title(f"digit ({side})", fontsize=7)
        for f in range(k):
            axes[r, f + 1].imshow(maps[f], cmap="viridis")
            axes[r, f + 1].set_title(f"filter {f + 1}", fontsize=7)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout(pad=0.3)
    return fig


def _plot_ties(dx, dx_t):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(5, 2.6))
    for ax, (side, g) in zip(axes, (("NumPy (np.argmax)", dx), ("PyTorch (MaxPool2d)", dx_t))):
        ax.imshow(g, cmap="Blues", vmin=0, vmax=1)
        for (i, j), v in np.ndenumerate(g):
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=9)
        for k in (1.5,):
            ax.axhline(k, color="k", lw=1)
            ax.axvline(k, color="k", lw=1)
        ax.set_title(side, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def _plot_timing(frame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 2.6))
    ax.barh(frame["form"], frame["median ms"], color=["tab:gray", "tab:blue", "tab:orange"])
    for i, v in enumerate(frame["median ms"]):
        ax.text(v, i, f" {v:.1f} ms", va="center", fontsize=8)
    ax.set_xlabel("ms per forward + backward (median)")
    ax.set_title("The book's layer: 100×1×28×28, 30 filters 5×5", fontsize=9)
    ax.set_xlim(0, frame["median ms"].max() * 1.3)
    fig.tight_layout()
    return fig
