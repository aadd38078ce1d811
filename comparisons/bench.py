"""``python -m comparisons bench``: the time of one training step (forward, backward, SGD update)
of an MLP, NumPy (scratch) against PyTorch on the CPU, and PyTorch on CUDA when asked for and
present, and of a TinyGPT (2 blocks, 4 heads, width 64, context 64, batch 16, AdamW); and one forward +
backward of the book's convolution layer (100×1×28×28, 30 filters of
5×5) in three forms: plain loops, im2col and ``nn.Conv2d``. Both sides are measured in the same
run, each step repeated, median and spread reported. Timings live here and in the report, never in
pass/fail tests.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import threadpoolctl
import torch

import torch_ref.networks as tnet

from . import bridge, outdir, timing
from .report import _markdown_table
from .runner import check_device, configure_torch
from .timing import median_ms
from .training import he_params

CONFIGS = [("784→100→10", [784, 100, 10], 100), ("784→512→10", [784, 512, 10], 256), ("64→50→10", [64, 50, 10], 100)]


def _numpy_step(impl, params, x, t):
    net = impl.networks.MultiLayerNet({k: v.copy() for k, v in params.items()}, layers=impl.layers)
    opt = impl.optim.SGD(0.01)

    def step():
        net.loss(x, t)
        opt.update(net.params, net.backward())
    return step


def _torch_step(params, x, t, dtype, device):
    model = tnet.mlp([params["W1"].shape[0], params["W1"].shape[1], params["W2"].shape[1]]).to(dtype=dtype, device=device)
    bridge.load_mlp(model, params)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xt = torch.as_tensor(x, dtype=dtype, device=device)
    tt = torch.as_tensor(t, device=device)

    def step():
        tnet.train_step(model, opt, xt, tt)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return step


def run_bench(out, device: str = "cpu", repeats: int = 30, seed: int = 0, impl=None, progress=None):
    """Measure every configuration and write bench.csv, bench.md, bench.json and bench.png to ``out``
    (replaced only when complete, and only when new, empty or an earlier output of this project)."""
    import scratch

    impl = impl or scratch
    if repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {repeats}")
    check_device(device)
    with outdir.replacing(out, "python -m comparisons bench") as folder:
        rows = _measure(impl, device, repeats, seed, progress)
        conv = conv_timings(impl, repeats, seed, progress)
        verify_s = verify_timings(progress)
        _write(rows, folder, repeats, device, verify_s, conv)
    return pd.DataFrame(rows)


# A file of 15 objects as a learner writes them (here: scratch's, defined in the file itself).
VERIFY_FILE = """
import numpy as np
import scratch.activations as A
import scratch.layers as L
import scratch.losses as E
import scratch.optim as O

def sigmoid(x): return A.sigmoid(x)
def relu(x): return A.relu(x)
def softmax(x): return A.softmax(x)
def relu_grad(x): return A.relu_grad(x)
def cross_entropy_error(y, t): return E.cross_entropy_error(y, t, delta=0.0)
class Relu(L.ReLU): pass
class Sigmoid(L.Sigmoid): pass
class Affine(L.Linear): pass
class SoftmaxWithLoss(L.SoftmaxWithLoss): pass
class Dropout(L.Dropout): pass
class BatchNormalization(L.BatchNorm1d): pass
class SGD(O.SGD): pass
class Momentum(O.Momentum): pass
class AdaGrad(O.AdaGrad): pass
class Adam(O.Adam): pass
"""


def verify_timings(progress=None) -> dict:
    """Seconds for ``verify FILE.py`` on a file of 15 objects, and for one layer (``verify layer``),
    in this process (torch already imported)."""
    import tempfile
    from pathlib import Path

    from .verify import verify, verify_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fifteen.py"
        path.write_text(VERIFY_FILE, encoding="utf-8")
        t0 = time.perf_counter()
        result = verify_file(str(path))
        file_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        verify("layer", f"{path}:BatchNormalization", "batchnorm")
        layer_s = time.perf_counter() - t0
    out = {"verify FILE.py (objects)": len(result.results), "verify FILE.py s": file_s, "verify one layer s": layer_s}
    if progress:
        progress(f"[bench] verify FILE.py, {len(result.results)} objects: {file_s:.2f} s; one layer: {layer_s:.2f} s")
    return out


def conv_timings(impl, repeats, seed, progress=None) -> list[dict]:
    """One row per dtype and form of the book's convolution layer (see
    ``comparisons.timing.conv_layer``): median ms of forward + backward, and the
    time relative to ``nn.Conv2d``'s."""

    rows = []
    for dtype in (np.float32, np.float64):
        for row in timing.conv_layer(impl, repeats=repeats, seed=seed, dtype=dtype):
            rows.append({"dtype": np.dtype(dtype).name, **row})
            if progress:
                progress(f"[bench] conv layer {rows[-1]['dtype']} {row['form']}: {row['median ms']:.2f} ms")
    return rows


def _measure(impl, device, repeats, seed, progress) -> list[dict]:
    """One row per configuration, dtype and side: the median time of a training step and its IQR."""
    configure_torch(device)
    rng = np.random.default_rng(seed)
    say = progress or (lambda msg: None)
    rows = []
    for name, sizes, batch in CONFIGS:
        params = he_params(rng, sizes)
        x = rng.normal(size=(batch, sizes[0]))
        t = rng.integers(0, sizes[-1], size=batch)
        for dtype, np_dtype, torch_dtype in (("float32", np.float32, torch.float32), ("float64", np.float64, torch.float64)):
            p = {k: v.astype(np_dtype) for k, v in params.items()}
            xs = x.astype(np_dtype)
            sides = [("NumPy", _numpy_step(impl, p, xs, t)), ("torch cpu", _torch_step(p, xs, t, torch_dtype, torch.device("cpu")))]
            if device.startswith("cuda"):
                sides.append(("torch cuda", _torch_step(p, xs, t, torch_dtype, torch.device(device))))
            medians = {}
            for side, step in sides:
                med, q1, q3 = median_ms(step, repeats)
                medians[side] = med
                rows.append({"network": name, "batch": batch, "dtype": dtype, "side": side,
                             "median ms/step": med, "IQR ms": f"{q1:.3f}–{q3:.3f}"})
                say(f"[bench] {name} batch {batch} {dtype} {side}: {med:.3f} ms")
            for row in rows[-len(sides):]:
                row["÷ NumPy"] = row["median ms/step"] / medians["NumPy"]
    rows += _lstm_rows(impl, device, repeats, rng, say)
    rows += _tinygpt_rows(impl, device, repeats, rng, say)
    return rows


LSTM_CONFIG = ("LSTM layer fwd+bwd, T=50, D=H=128", 32, 50, 128)  # name, batch, steps, hidden (= input) size


def _lstm_rows(impl, device, repeats, rng, say) -> list[dict]:
    """Forward and backward of one LSTM layer over a sequence (batch 32, 50 steps, 128 hidden):
    ``impl.recurrent.LSTM`` against ``nn.LSTM`` with autograd, the same weights and inputs."""
    import torch_ref.recurrent as trec

    name, N, T, H = LSTM_CONFIG
    k = 1 / np.sqrt(H)
    tp = {n: rng.uniform(-k, k, s) for n, s in (("weight_ih", (4 * H, H)), ("weight_hh", (4 * H, H)),
                                               ("bias_ih", (4 * H,)), ("bias_hh", (4 * H,)))}
    x, dout = rng.normal(size=(N, T, H)), rng.normal(size=(N, T, H))
    rows = []
    for dtype, np_dtype, torch_dtype in (("float32", np.float32, torch.float32), ("float64", np.float64, torch.float64)):
        p = bridge.recurrent_from_torch("lstm", **{n: v.astype(np_dtype) for n, v in tp.items()},
                                        gates=impl.recurrent.LSTM_GATES)
        layer = impl.recurrent.LSTM(p["Wx"], p["Wh"], p["b"])
        xs, ds = x.astype(np_dtype), dout.astype(np_dtype)

        def numpy_step():
            layer.forward(xs)
            layer.backward(ds)

        sides = [("NumPy", numpy_step)]
        devices = [torch.device("cpu")] + ([torch.device(device)] if device.startswith("cuda") else [])
        for dev in devices:
            module = trec.recurrent("lstm", *(torch.as_tensor(tp[n], dtype=torch_dtype, device=dev) for n in tp))
            xt = torch.as_tensor(x, dtype=torch_dtype, device=dev).requires_grad_(True)
            dt = torch.as_tensor(dout, dtype=torch_dtype, device=dev)

            def torch_step(module=module, xt=xt, dt=dt, dev=dev):
                out, _ = module(xt)
                out.backward(dt)
                if dev.type == "cuda":
                    torch.cuda.synchronize()

            sides.append((f"torch {dev.type}", torch_step))
        rows += _side_rows(name, N, dtype, sides, repeats, say)
    return rows


def _side_rows(name, batch, dtype, sides, repeats, say) -> list[dict]:
    """One row per (side, step function) of ``sides``: the median time of a step and its IQR, and the
    time relative to NumPy's."""
    rows, medians = [], {}
    for side, step in sides:
        med, q1, q3 = median_ms(step, repeats)
        medians[side] = med
        rows.append({"network": name, "batch": batch, "dtype": dtype, "side": side, "median ms/step": med,
                     "IQR ms": f"{q1:.3f}–{q3:.3f}"})
        say(f"[bench] {name} batch {batch} {dtype} {side}: {med:.3f} ms")
    for row in rows:
        row["÷ NumPy"] = row["median ms/step"] / medians["NumPy"]
    return rows


TINYGPT_CONFIG = ("TinyGPT step, 2 blocks, 4 heads, d=64, T=64", 16, 2, 4, 64, 64)  # name, batch, layers, heads, d, T


def _tinygpt_rows(impl, device, repeats, rng, say) -> list[dict]:
    """One training step (forward, backward, AdamW update) of a TinyGPT on the study notes' characters:
    ``impl.transformer.TinyGPT`` with ``impl.optim.AdamW`` against ``torch_ref.transformer.TinyGPT`` with
    ``torch.optim.AdamW``, the same weights and batch."""
    import torch_ref.transformer as tt

    from . import data
    from . import transformer_bridge as tb

    name, N, L, H, E, T = TINYGPT_CONFIG
    V = len(set(data.study_notes_text()))
    params = tb.random_tinygpt_params(rng, V, E, L, T)
    x, t = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    rows = []
    for dtype, np_dtype, torch_dtype in (("float32", np.float32, torch.float32), ("float64", np.float64, torch.float64)):
        net = impl.transformer.TinyGPT({k: v.astype(np_dtype) for k, v in params.items()}, H, L)
        opt = impl.optim.AdamW(1e-3)

        def numpy_step(net=net, opt=opt):
            net.loss(x, t)
            opt.update(net.params, net.backward())

        sides = [("NumPy", numpy_step)]
        devices = [torch.device("cpu")] + ([torch.device(device)] if device.startswith("cuda") else [])
        for dev in devices:
            model = tb.load_tinygpt(tt.TinyGPT(V, E, H, L, T, dtype=torch_dtype).to(dev), params)
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
            xt, yt = torch.as_tensor(x, device=dev), torch.as_tensor(t, device=dev)

            def torch_step(model=model, optimizer=optimizer, xt=xt, yt=yt, dev=dev):
                optimizer.zero_grad()
                model.loss(xt, yt).backward()
                optimizer.step()
                if dev.type == "cuda":
                    torch.cuda.synchronize()

            sides.append((f"torch {dev.type}", torch_step))
        rows += _side_rows(name, N, dtype, sides, repeats, say)
    return rows


def _write(rows, out, repeats, device, verify_s=None, conv=None):
    """bench.csv, bench.json, bench.md and bench.png (and bench-conv.png) in the folder ``out``."""
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "bench.csv", index=False)
    meta = {"threads": {"blas": [i.get("num_threads") for i in threadpoolctl.threadpool_info()],
                        "torch": torch.get_num_threads()},
            "cpu": platform.processor() or platform.machine(), "numpy": np.__version__, "torch": torch.__version__,
            "repeats": repeats, "device": device, "verify": verify_s}
    (out / "bench.json").write_text(json.dumps({"meta": meta, "rows": rows, "conv": conv or []}, indent=1) + "\n",
                                    encoding="utf-8")
    (out / "bench.md").write_text(
        "# Training-step benchmark: NumPy vs PyTorch\n\n"
        "One SGD training step (forward, backward, update) per row (the LSTM row: forward and backward of one "
        f"layer over the sequence; the TinyGPT row: AdamW); median of {repeats} timed steps after "
        f"3 warm-up steps, with the interquartile range. One CPU thread per library (as in the comparisons); "
        f"numpy {np.__version__}, torch {torch.__version__}, {meta['cpu']}. `÷ NumPy` is the time relative to "
        "NumPy's in the same configuration (below 1: faster than NumPy).\n\n" + _markdown_table(_display(frame)) + "\n"
        + (f"\n`verify FILE.py` on a file of {verify_s['verify FILE.py (objects)']} objects: "
           f"{verify_s['verify FILE.py s']:.2f} s; `verify layer` (batch norm): {verify_s['verify one layer s']:.2f} s "
           "(one process, torch imported once).\n" if verify_s else "")
        + (f"\n## The book's convolution layer\n\n{CONV_TEXT}\n\n" + _markdown_table(conv_display(pd.DataFrame(conv)))
           + "\n" if conv else ""),
        encoding="utf-8")
    _plot(frame, out / "bench.png")
    if conv:
        _plot_conv(pd.DataFrame(conv), out / "bench-conv.png")


CONV_TEXT = ("One forward and backward pass (dx, dW, db) of the book's layer: 100 images of 1×28×28, 30 filters "
             "of 5×5, stride 1, no padding. Plain loops slide the window one output position at a time; im2col "
             "makes one matrix product of it; `nn.Conv2d` is PyTorch's CPU kernel. One thread each; `÷ nn.Conv2d` "
             "is the time relative to PyTorch's.")


def conv_display(frame):
    shown = frame.copy()
    shown["median ms"] = shown["median ms"].map(lambda v: f"{v:.2f}")
    shown["÷ nn.Conv2d"] = shown["÷ nn.Conv2d"].map(lambda v: f"{v:.2f}")
    return shown


def _plot_conv(frame, path):
    import matplotlib.pyplot as plt

    forms = list(dict.fromkeys(frame["form"]))
    dtypes = list(dict.fromkeys(frame["dtype"]))
    fig, ax = plt.subplots(figsize=(6, 2.8))
    pos = np.arange(len(forms))
    width = 0.8 / len(dtypes)
    for i, dtype in enumerate(dtypes):
        sub = frame[frame["dtype"] == dtype].set_index("form").loc[forms]
        ax.barh(pos + (i - (len(dtypes) - 1) / 2) * width, sub["median ms"], height=width, label=dtype)
    ax.set_yticks(pos, forms, fontsize=8)
    ax.set_xlabel("ms per forward + backward (median)")
    ax.set_title("The book's convolution layer: 100×1×28×28, 30 filters 5×5", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)


def _display(frame):
    """The table as read by a person: milliseconds to 3 decimals, ratios to 2."""
    shown = frame.copy()
    shown["median ms/step"] = shown["median ms/step"].map(lambda v: f"{v:.3f}")
    shown["÷ NumPy"] = shown["÷ NumPy"].map(lambda v: f"{v:.2f}")
    return shown


def _plot(frame, path):
    """Horizontal bars, one group per configuration (its network, batch and dtype written in full on
    the left, where there is room), NumPy and PyTorch side by side, each bar labelled with its time;
    a log scale, since the configurations span orders of magnitude."""
    import matplotlib.pyplot as plt

    configs = frame.drop_duplicates(["network", "batch", "dtype"])
    labels = [f"{r.network}\nbatch {r.batch}, {r.dtype}" for r in configs.itertuples()]
    sides = list(dict.fromkeys(frame["side"]))
    fig, ax = plt.subplots(figsize=(8, 0.62 * len(labels) + 1.3))
    pos = np.arange(len(labels))[::-1]
    height = 0.8 / len(sides)
    for i, side in enumerate(sides):
        ms = [float(frame[(frame["side"] == side) & (frame["network"] == r.network) & (frame["batch"] == r.batch)
                          & (frame["dtype"] == r.dtype)]["median ms/step"].iloc[0]) for r in configs.itertuples()]
        bars = ax.barh(pos - (i - (len(sides) - 1) / 2) * height, ms, height=height, label=side)
        ax.bar_label(bars, labels=[f"{v:.3g} ms" for v in ms], padding=3, fontsize=7)
    ax.set_yticks(pos, labels, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(right=ax.get_xlim()[1] * 3)  # room for the labels at the bars' ends
    ax.set_xlabel("milliseconds per training step (median, log scale)")
    ax.set_title("One SGD training step, NumPy and PyTorch (LSTM: the layer forward + backward)", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)


def replot(folder) -> None:
    """Draw ``bench.png`` and ``bench-conv.png`` again from ``bench.json`` in ``folder``, without
    timing anything (after a change to the figures' code)."""
    folder = Path(folder)
    data = json.loads((folder / "bench.json").read_text(encoding="utf-8"))
    _plot(pd.DataFrame(data["rows"]), folder / "bench.png")
    if data.get("conv"):
        _plot_conv(pd.DataFrame(data["conv"]), folder / "bench-conv.png")
