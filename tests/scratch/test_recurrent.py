"""scratch.recurrent as a specification: a cell is one step of its sequence, truncated BPTT cuts exactly at the
block boundaries, the embedding adds the gradients of a repeated index, clipping scales every gradient by one
factor, the GRU's two reset-gate forms meet where the recurrent weight is diagonal; every public name against
nn.RNN / nn.LSTM / nn.GRU, nn.Embedding and clip_grad_norm_.

Every argument check at its boundary, on both sides: an index equal to the vocabulary size refused before it
reaches the indexing (a character, an embedding index, a label), sizes from 1, truncation from 1, clipping's
max_norm above 0 (inf: no clipping) and ε from 0."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import torch_ref.recurrent as trec
from comparisons import bridge
from scratch import recurrent as RC, sequence as SQ, sequence_models as SM

from .malformed import (FLAG, INF, NAN, Array, Boundary, Case, DictOfArrays, Domain, Int, Labels, Other, Real, T, Tg,
                        backward_case, forward_case, forwarded, grad_of, integers, interval, labels,
                        malformed_input_tests, prove_each)


# --- malformed input: torch's result or an error naming the argument ------------------------------

# against nn.RNN / nn.LSTM / nn.GRU (and their cells), nn.Embedding, clip_grad_norm_
rng0 = np.random.default_rng(20240614)

RN, RT, RD, RH, RV = 2, 3, 4, 3, 5
RX, RDH = rng0.normal(size=(RN, RT, RD)), rng0.normal(size=(RN, RT, RH))
RX2, RH0, RC0, RDH2, RDC2 = (rng0.normal(size=s) for s in ((RN, RD), (RN, RH), (RN, RH), (RN, RH), (RN, RH)))
RW = {kind: [rng0.normal(0, 0.5, s) for s in ((RD, g * RH), (RH, g * RH), (g * RH,))] + [rng0.normal(0, 0.5, g * RH)] * (kind == "gru")
      for kind, g in (("rnn", 1), ("lstm", 4), ("gru", 3))}
REC = {"rnn": (RC.RNN, RC.RNNCell), "lstm": (RC.LSTM, RC.LSTMCell), "gru": (RC.GRU, RC.GRUCell)}
TORCH_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def rec_module(kind, w, cell=False):
    """The torch module holding scratch-layout weights w = [Wx, Wh, b(, bh)] (LSTM columns i, f, o, g)."""
    w = [T(a).numpy() for a in w]
    tp = bridge.recurrent_to_torch(kind, w[0], w[1], w[2], gates=RC.LSTM_GATES if kind == "lstm" else None,
                                   bh=w[3] if kind == "gru" else None)
    return trec.recurrent(kind, *(torch.as_tensor(tp[n]) for n in TORCH_NAMES), cell=cell)


def states_t(kind, N, given):
    """The initial states as torch takes them: None → zeros."""
    n = 2 if kind == "lstm" else 1
    return tuple(torch.zeros(N, RH, dtype=torch.float64) if s is None else T(s) for s in (list(given) + [None] * n)[:n])


def seq_forward_t(kind, w, x, states=()):
    module = rec_module(kind, w)
    st = states_t(kind, T(x).shape[0], states)
    out, _ = module(T(x), tuple(s[None] for s in st) if kind == "lstm" else st[0][None])
    return out


def seq_backward_t(kind, w, x, states, dh, truncate):
    module = rec_module(kind, w)
    _, _, dx, dstates = trec.run_backward(module, T(x), states_t(kind, T(x).shape[0], states), T(dh), truncate)
    grads = bridge.recurrent_arrays(module, grad=True, gates=RC.LSTM_GATES if kind == "lstm" else None)
    return [dx, *dstates, *grads.values()]


def seq_backward_run(kind, states, dh, truncate):
    layer = REC[kind][0](*RW[kind])
    layer.forward(RX, *states)
    return [*layer.backward(dh, truncate), *layer.grads.values()]


def cell_forward_t(kind, w, x, states=()):
    module = rec_module(kind, w, cell=True)
    st = states_t(kind, T(x).shape[0], states)
    with torch.no_grad():
        out = module(T(x), st if kind == "lstm" else st[0])
    return list(out) if isinstance(out, tuple) else out


def cell_run(kind, dh, dc=None):
    layer = REC[kind][1](*RW[kind])
    states = (RH0, RC0) if kind == "lstm" else (RH0,)
    layer.forward(RX2, *states)
    back = layer.backward(dh, dc) if kind == "lstm" else layer.backward(dh)
    return [*back, *layer.grads.values()]


def cell_backward_t(kind, dh, dc=None):
    module = rec_module(kind, RW[kind], cell=True)
    states = (RH0, RC0) if kind == "lstm" else (RH0,)
    douts = (T(dh), torch.zeros(RN, RH, dtype=torch.float64) if dc is None else T(dc))[:len(states)]
    _, dx, dstates = trec.cell_backward(module, T(RX2), tuple(T(s) for s in states), douts)
    grads = bridge.recurrent_arrays(module, grad=True, gates=RC.LSTM_GATES if kind == "lstm" else None)
    return [dx, *dstates, *grads.values()]


def fit_x(x, Wx, ndim=3):
    """The input resized to as many features as Wx has rows (a constructor given another valid D)."""
    if np.ndim(Wx) == 2 and np.shape(Wx)[0] >= 1:
        return np.resize(x, np.shape(x)[:-1] + (np.shape(Wx)[0],))
    return x


def rec_weights(kind):
    names = ("Wx", "Wh", "bx", "bh") if kind == "gru" else ("Wx", "Wh", "b")
    return {n: Array(v, finite=True) for n, v in zip(names, RW[kind])}


def recurrent_cases(kind):
    name = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[kind]
    seq, cell = f"recurrent.{name}", f"recurrent.{name}Cell"
    extra = {"reset_after": FLAG} if kind == "gru" else {}
    state_args = {"h0": Array(RH0), "c0": Array(RC0)} if kind == "lstm" else {"h0": Array(RH0)}
    prev_args = {"h_prev": Array(RH0), "c_prev": Array(RC0)} if kind == "lstm" else {"h_prev": Array(RH0)}
    states = (RH0, RC0) if kind == "lstm" else (RH0,)
    dcell = {"dh": Array(RDH2), "dc": Array(RDC2)} if kind == "lstm" else {"dh": Array(RDH2)}
    return {
        seq: Case({**rec_weights(kind), **extra},
                  lambda **kw: REC[kind][0](**kw).forward(fit_x(RX, kw["Wx"])),
                  lambda **kw: seq_forward_t(kind, [v for k, v in kw.items() if k != "reset_after"], fit_x(RX, kw["Wx"]))),
        f"{seq}.forward": Case({"x": Array(RX), **state_args}, lambda x, **st: REC[kind][0](*RW[kind]).forward(x, **st),
                               lambda x, **st: seq_forward_t(kind, RW[kind], x, st.values())),
        f"{seq}.backward": Case({"dh": Array(RDH), "truncate": Int(2, minimum=1)},
                                lambda dh, truncate: seq_backward_run(kind, states, dh, truncate),
                                lambda dh, truncate: seq_backward_t(kind, RW[kind], RX, states, dh, truncate)),
        cell: Case({**rec_weights(kind), **extra},
                   lambda **kw: REC[kind][1](**kw).forward(fit_x(RX2, kw["Wx"]), *states),
                   lambda **kw: cell_forward_t(kind, [v for k, v in kw.items() if k != "reset_after"],
                                               fit_x(RX2, kw["Wx"]), states)),
        f"{cell}.forward": Case({"x": Array(RX2), **prev_args}, lambda x, **st: REC[kind][1](*RW[kind]).forward(x, **st),
                                lambda x, **st: cell_forward_t(kind, RW[kind], x, st.values())),
        f"{cell}.backward": Case(dcell, lambda **d: cell_run(kind, **d), lambda **d: cell_backward_t(kind, **d)),
    }


EW, EIDX, EDOUT = rng0.normal(size=(RV, 3)), np.array([[1, 4, 1], [0, 1, 3]]), rng0.normal(size=(2, 3, 3))
TLW, TLB = rng0.normal(size=(RD, RV)), rng0.normal(size=RV)
TSX, TST = rng0.normal(size=(RN, RT, RV)), np.array([[0, 4, 2], [1, 1, 3]])
GR = {"a": rng0.normal(size=(3, 2)), "b": rng0.normal(size=4)}
LMP = {"E": rng0.normal(size=(RV, RD)), "Wx": RW["lstm"][0], "Wh": RW["lstm"][1], "b": RW["lstm"][2],
       "W": rng0.normal(size=(RH, RV)), "bo": rng0.normal(size=RV)}
SCP = {"Wx": RW["rnn"][0], "Wh": RW["rnn"][1], "b": RW["rnn"][2], "W": rng0.normal(size=(RH, 2)), "bo": rng0.normal(size=2)}
SCT = np.array([1, 0])


def embedding_backward(dout):
    layer = SM.Embedding(EW)
    layer.forward(EIDX)
    layer.backward(dout)
    return layer.grads["W"]


def embedding_backward_t(dout):
    w = Tg(EW)
    F.embedding(torch.as_tensor(EIDX), w).backward(T(dout))
    return w.grad


def time_linear_backward(xt, dout):
    w, b = Tg(TLW), Tg(TLB)
    F.linear(xt, w.T, b).backward(dout)
    return [xt.grad, w.grad, b.grad]


def grads_list(grads):
    return list(grads.values()) if isinstance(grads, dict) else list(grads)


def global_norm_t(grads):
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(T(g)) for g in grads_list(grads)]))


def clip_run(grads, max_norm, eps):
    grads = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in grads.items()} if isinstance(grads, dict) \
        else [v.copy() if isinstance(v, np.ndarray) else v for v in grads] if isinstance(grads, list) else grads
    norm = RC.clip_grad_norm(grads, max_norm, eps)
    return [norm, *grads_list(grads)]


def clip_t(grads, max_norm, eps):
    tensors = [T(g).clone().requires_grad_(True) for g in grads_list(grads)]
    for t in tensors:
        t.grad = t.detach().clone()
    norm = trec.clip_grad_norm(tensors, max_norm)
    return [norm, *(t.grad for t in tensors)]


def lm_t(params):
    """torch's CharLM holding ``params`` (scratch layout)."""
    p = {k: T(v).numpy() for k, v in params.items()}
    (V, D), H = p["E"].shape, p["Wh"].shape[0]
    model = trec.CharLM(V, D, H).double()
    return bridge.load_sequence_model(model, p, gates=RC.LSTM_GATES)


def lm_loss_t(params, idx, t, grads=False):
    model = lm_t(params)
    loss = model.loss(torch.as_tensor(np.asarray(idx)), labels(t))
    if not grads:
        return loss
    loss.backward()
    return bridge.sequence_model_arrays(model, grad=True, gates=RC.LSTM_GATES)


def lm_scores_t(idx, h0, c0):
    st = states_t("lstm", np.shape(idx)[0], (h0, c0))
    with torch.no_grad():
        scores, _ = lm_t(LMP)(torch.as_tensor(np.asarray(idx)), tuple(s[None] for s in st))
    return scores


def lm_next_t(char, state):
    st = states_t("lstm", 1, state or ())
    with torch.no_grad():
        scores, (h, c) = lm_t(LMP)(torch.as_tensor([[char]]), tuple(s[None] for s in st))
    return [torch.softmax(scores[0, 0], dim=-1), h[0], c[0]]


def classifier_t(params, x, t, grads=False):
    p = {k: T(v).numpy() for k, v in params.items()}
    model = bridge.load_sequence_model(trec.SequenceClassifier(p["Wx"].shape[0], p["Wh"].shape[0], p["W"].shape[1]).double(), p)
    loss = model.loss(T(x), labels(t))
    if not grads:
        return loss
    loss.backward()
    return bridge.sequence_model_arrays(model, grad=True)


RX_SC = rng0.normal(size=(RN, RT, RD))
CASES = {
    **recurrent_cases("rnn"), **recurrent_cases("lstm"), **recurrent_cases("gru"),
    "sequence_models.Embedding": Case({"W": Array(EW)}, lambda W: SM.Embedding(W).forward(EIDX),
                                lambda W: F.embedding(torch.as_tensor(EIDX), T(W))),
    "sequence_models.Embedding.forward": Case({"idx": Array(EIDX, extra=[np.array([[RV, 0]]), np.array([-1])])},
                                        lambda idx: SM.Embedding(EW).forward(idx),
                                        lambda idx: F.embedding(torch.as_tensor(np.asarray(idx)), T(EW))),
    "sequence_models.Embedding.backward": Case({"dout": Array(EDOUT)}, embedding_backward, embedding_backward_t),
    "sequence_models.TimeLinear": Case({"W": Array(TLW), "b": Array(TLB)}, lambda W, b: SM.TimeLinear(W, b).forward(fit_x(RX, W)),
                                 lambda W, b: F.linear(T(fit_x(RX, W)), T(W).T, T(b))),
    "sequence_models.TimeLinear.forward": forward_case(lambda: SM.TimeLinear(TLW, TLB), lambda x: F.linear(x, T(TLW).T, T(TLB)),
                                                 RX),
    "sequence_models.TimeLinear.backward": backward_case(lambda: SM.TimeLinear(TLW, TLB), time_linear_backward, RX,
                                                   rng0.normal(size=(RN, RT, RV)), grads=("W", "b")),
    "sequence.TimeSoftmaxWithLoss.forward": Case(  # as the sequence models use it: no label ignored
        {"x": Array(TSX), "t": Labels(TST, classes=RV)}, lambda x, t: SQ.TimeSoftmaxWithLoss(None).forward(x, t),
        lambda x, t: F.cross_entropy(T(x).reshape(-1, T(x).shape[-1]), labels(t).reshape(-1))),
    "sequence.TimeSoftmaxWithLoss.backward": Case(
        {"dout": Array(1.5)}, lambda dout: forwarded(SQ.TimeSoftmaxWithLoss(None), TSX, TST).backward(dout),
        lambda dout: grad_of(lambda v: F.cross_entropy(v.reshape(-1, RV), labels(TST).reshape(-1)), Tg(TSX),
                             dout=T(dout))[0]),
    "recurrent.global_norm": Case({"grads": DictOfArrays(GR, Array(GR["a"]))}, RC.global_norm, global_norm_t),
    "recurrent.clip_grad_norm": Case(
        {"grads": DictOfArrays(GR, Array(GR["a"])), "max_norm": Real(0.5, low=0, low_open=True),
         "eps": Other(1e-6, [None, "1e-6", -1e-6, NAN, INF, [1e-6], 1j])}, clip_run, clip_t),
    "sequence_models.CharLM": Case({"params": DictOfArrays(LMP, Array(LMP["E"], finite=True))},
                             lambda params: SM.CharLM(params).loss(EIDX, TST[:, :3]),
                             lambda params: lm_loss_t(params, EIDX, TST[:, :3])),
    "sequence_models.CharLM.scores": Case({"idx": Array(EIDX, extra=[np.array([[RV]])]), "h0": Array(RH0), "c0": Array(RC0)},
                                    lambda idx, h0, c0: SM.CharLM(LMP).scores(idx, h0, c0), lm_scores_t),
    "sequence_models.CharLM.loss": Case({"idx": Array(EIDX, extra=[np.array([[RV]])]), "t": Labels(TST[:, :3], classes=RV)},
                                  lambda idx, t: SM.CharLM(LMP).loss(idx, t), lambda idx, t: lm_loss_t(LMP, idx, t)),
    "sequence_models.CharLM.gradient": Case({"idx": Array(EIDX, extra=[np.array([[RV]])]), "t": Labels(TST[:, :3], classes=RV)},
                                      lambda idx, t: SM.CharLM(LMP).gradient(idx, t),
                                      lambda idx, t: lm_loss_t(LMP, idx, t, grads=True)),
    "sequence_models.CharLM.next_probabilities": Case(
        {"char": Int(2), "state": Other(None, [3, "state", (RH0[:1],), (RH0, RC0), [None, None], {"h": RH0[:1]}])},
        lambda char, state: list(SM.CharLM(LMP).next_probabilities(char, state)[:1]) + list(SM.CharLM(LMP).next_probabilities(char, state)[1]),
        lm_next_t),
    "sequence_models.SequenceClassifier": Case({"params": DictOfArrays(SCP, Array(SCP["Wx"], finite=True))},
                                         lambda params: SM.SequenceClassifier(params).loss(fit_x(RX_SC, params.get("Wx") if isinstance(params, dict) else None), SCT),
                                         lambda params: classifier_t(params, fit_x(RX_SC, params["Wx"]), SCT)),
    "sequence_models.SequenceClassifier.loss": Case({"x": Array(RX_SC), "t": Labels(SCT, classes=2)},
                                              lambda x, t: SM.SequenceClassifier(SCP).loss(x, t),
                                              lambda x, t: classifier_t(SCP, x, t)),
    "sequence_models.SequenceClassifier.gradient": Case({"x": Array(RX_SC), "t": Labels(SCT, classes=2)},
                                                  lambda x, t: SM.SequenceClassifier(SCP).gradient(x, t),
                                                  lambda x, t: classifier_t(SCP, x, t, grads=True)),
}

test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_V, AT_D, AT_H = 5, 3, 2
AT_RNG = np.random.default_rng(0)
AT_LM = {"E": AT_RNG.normal(size=(AT_V, AT_D)), "Wx": AT_RNG.normal(size=(AT_D, 4 * AT_H)), "Wh": AT_RNG.normal(size=(AT_H, 4 * AT_H)),
      "b": np.zeros(4 * AT_H), "W": AT_RNG.normal(size=(AT_H, AT_V)), "bo": np.zeros(AT_V)}
AT_INDICES = Domain(accepted=(0, AT_V - 1), refused=(-1, AT_V, AT_V + 1))


def rnn(d=AT_D, h=AT_H):
    return RC.RNN(np.zeros((d, h)), np.zeros((h, h)), np.zeros(h))


def backward_truncated(k):
    layer = rnn()
    hs = layer.forward(np.ones((2, 4, AT_D)))
    return layer.backward(np.ones_like(hs), truncate=k)


def clipped(**kw):
    return RC.clip_grad_norm({"W": np.array([3.0, 4.0])}, **{"max_norm": 1.0, **kw})


BOUNDARIES = [
    Boundary("CharLM.next_probabilities char", lambda v: SM.CharLM(AT_LM).next_probabilities(v), "char",
             integers(0, AT_V - 1)),
    Boundary("CharLM.scores idx", lambda v: SM.CharLM(AT_LM).scores(np.array([[0, v]])), "idx", AT_INDICES),
    Boundary("CharLM.loss next characters", lambda v: SM.CharLM(AT_LM).loss(np.array([[0, 1]]), np.array([[2, v]])), "t",
             Domain(accepted=(0, AT_V - 1), refused=(-1, AT_V, NAN))),
    Boundary("Embedding idx", lambda v: SM.Embedding(AT_LM["E"]).forward(np.array([v, 0])), "idx",
             Domain(accepted=(0, AT_V - 1), refused=(-1, AT_V, AT_V + 1, 1.0))),
    Boundary("Embedding AT_V", lambda v: SM.Embedding(np.ones((v, 2))), "W", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("TimeLinear AT_D", lambda v: SM.TimeLinear(np.ones((v, 2)), np.zeros(2)), "W",
             Domain(accepted=(1, 2), refused=(0,))),
    Boundary("RNN input size AT_D", lambda v: rnn(d=v), "Wx", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("RNN hidden size AT_H", lambda v: rnn(h=v), "Wx", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("RNN batch N", lambda v: rnn().forward(np.ones((v, 2, AT_D))), "x", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("RNN steps T", lambda v: rnn().forward(np.ones((2, v, AT_D))), "x", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("backward truncate", backward_truncated, "truncate", integers(1)),
    Boundary("clip_grad_norm max_norm", lambda v: clipped(max_norm=v), "max_norm",
             interval(0.0, INF, low_open=True, finite=False)),
    Boundary("clip_grad_norm eps", lambda v: clipped(eps=v), "eps", interval(0.0, INF, high_open=True)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

BATCH, STEPS, FEATURES, HIDDEN = 3, 6, 4, 5
rng = np.random.default_rng(7)


def weights(gates, bh=False):
    w = [rng.normal(0, 0.5, (FEATURES, gates * HIDDEN)), rng.normal(0, 0.5, (HIDDEN, gates * HIDDEN)), rng.normal(0, 0.5, gates * HIDDEN)]
    return w + [rng.normal(0, 0.5, gates * HIDDEN)] if bh else w


@pytest.mark.parametrize("seq_cls, cell_cls, gates, states", [(RC.RNN, RC.RNNCell, 1, 1), (RC.LSTM, RC.LSTMCell, 4, 2),
                                                             (RC.GRU, RC.GRUCell, 3, 1)])
def test_a_cell_is_one_step_of_its_sequence(seq_cls, cell_cls, gates, states):
    w = weights(gates, bh=seq_cls is RC.GRU)
    x = rng.normal(size=(BATCH, FEATURES))
    state = [rng.normal(size=(BATCH, HIDDEN)) for _ in range(states)]
    dh = rng.normal(size=(BATCH, HIDDEN))
    seq, cell = seq_cls(*w), cell_cls(*w)
    hs = seq.forward(x[:, None], *state)
    out = cell.forward(x, *state)
    np.testing.assert_array_equal(hs[:, 0], out[0] if states == 2 else out)
    d_seq, d_cell = seq.backward(dh[:, None]), cell.backward(dh)
    np.testing.assert_array_equal(d_seq[0][:, 0], d_cell[0])
    for a, b in zip(d_seq[1:], d_cell[1:]):
        np.testing.assert_array_equal(a, b)
    for k in seq.grads:
        np.testing.assert_array_equal(seq.grads[k], cell.grads[k])


@pytest.mark.parametrize("cls, gates", [(RC.RNN, 1), (RC.LSTM, 4)])
def test_truncation_at_least_as_long_as_the_sequence_is_full_bptt(cls, gates):
    layer = cls(*weights(gates))
    x, dhs = rng.normal(size=(BATCH, STEPS, FEATURES)), rng.normal(size=(BATCH, STEPS, HIDDEN))
    layer.forward(x)
    full = layer.backward(dhs)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    truncated = layer.backward(dhs, truncate=STEPS)
    for a, b in zip(full, truncated):
        np.testing.assert_array_equal(a, b)
    for k in grads:
        np.testing.assert_array_equal(grads[k], layer.grads[k])


def test_truncated_bptt_sends_no_gradient_across_a_block_boundary():
    """A loss on the last output only: with blocks of 2, the inputs before the last block get
    nothing, and neither does h0; the forward pass is the same."""
    layer = RC.RNN(*weights(1))
    x = rng.normal(size=(BATCH, STEPS, FEATURES))
    hs = layer.forward(x)
    dhs = np.zeros((BATCH, STEPS, HIDDEN))
    dhs[:, -1] = rng.normal(size=(BATCH, HIDDEN))
    dx, dh0 = layer.backward(dhs, truncate=2)
    assert np.all(dx[:, :STEPS - 2] == 0) and np.all(dh0 == 0) and np.all(dx[:, STEPS - 2:] != 0)
    np.testing.assert_array_equal(layer.forward(x), hs)


def test_the_embedding_adds_the_gradients_of_a_repeated_index():
    layer = SM.Embedding(rng.normal(size=(4, 3)))
    idx = np.array([[1, 1, 2], [1, 0, 2]])
    dout = rng.normal(size=(2, 3, 3))
    np.testing.assert_array_equal(layer.forward(idx), layer.params["W"][idx])
    assert layer.backward(dout) is None
    np.testing.assert_allclose(layer.grads["W"][1], dout[0, 0] + dout[0, 1] + dout[1, 0])
    np.testing.assert_allclose(layer.grads["W"][2], dout[0, 2] + dout[1, 2])
    assert np.all(layer.grads["W"][3] == 0)


def test_clipping_scales_every_gradient_by_one_factor_and_returns_the_norm():
    grads = {"a": rng.normal(size=(3, 4)), "b": 100 * rng.normal(size=5)}
    before = {k: v.copy() for k, v in grads.items()}
    total = np.sqrt(sum(np.sum(g ** 2) for g in before.values()))
    assert RC.clip_grad_norm(grads, 1.0) == pytest.approx(total)
    factor = 1.0 / (total + 1e-6)
    for k in grads:
        np.testing.assert_allclose(grads[k], before[k] * factor)
    assert RC.global_norm(grads) == pytest.approx(1.0, rel=1e-5)


def test_clipping_below_the_threshold_or_at_inf_leaves_the_gradients_alone():
    grads = [rng.normal(size=(2, 2)), rng.normal(size=3)]
    before = [g.copy() for g in grads]
    RC.clip_grad_norm(grads, 1e6)
    RC.clip_grad_norm(grads, float("inf"))
    for a, b in zip(grads, before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="max_norm"):
        RC.clip_grad_norm(grads, 0.0)


def test_the_two_gru_forms_meet_where_the_recurrent_weight_is_diagonal_and_its_bias_zero():
    Wx, Wh, bx, bh = weights(3, bh=True)
    Wh[:, 2 * HIDDEN:] = np.diag(rng.normal(size=HIDDEN))
    bh[2 * HIDDEN:] = 0
    x, h = rng.normal(size=(BATCH, FEATURES)), rng.normal(size=(BATCH, HIDDEN))
    after = RC.GRUCell(Wx, Wh, bx, bh).forward(x, h)
    before = RC.GRUCell(Wx, Wh, bx, bh, reset_after=False).forward(x, h)
    np.testing.assert_allclose(after, before, rtol=1e-14, atol=1e-15)
    Wh[:, 2 * HIDDEN:] += rng.normal(0, 0.5, (HIDDEN, HIDDEN))
    assert not np.allclose(RC.GRUCell(Wx, Wh, bx, bh).forward(x, h),
                           RC.GRUCell(Wx, Wh, bx, bh, reset_after=False).forward(x, h))
