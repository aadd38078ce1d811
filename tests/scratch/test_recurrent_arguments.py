"""Every argument check of scratch.recurrent at its boundary, on both sides: an index equal to
the vocabulary size refused before it reaches the indexing (a character, an embedding index, a
label), sizes from 1, truncation from 1, clipping's max_norm above 0 (inf: no clipping) and ε
from 0."""

import numpy as np

from scratch import recurrent as RC

from .malformed import INF, NAN, Boundary, Domain, integers, interval, prove_each

V, D, H = 5, 3, 2
RNG = np.random.default_rng(0)
LM = {"E": RNG.normal(size=(V, D)), "Wx": RNG.normal(size=(D, 4 * H)), "Wh": RNG.normal(size=(H, 4 * H)),
      "b": np.zeros(4 * H), "W": RNG.normal(size=(H, V)), "bo": np.zeros(V)}
INDICES = Domain(accepted=(0, V - 1), refused=(-1, V, V + 1))


def rnn(d=D, h=H):
    return RC.RNN(np.zeros((d, h)), np.zeros((h, h)), np.zeros(h))


def backward_truncated(k):
    layer = rnn()
    hs = layer.forward(np.ones((2, 4, D)))
    return layer.backward(np.ones_like(hs), truncate=k)


def clipped(**kw):
    return RC.clip_grad_norm({"W": np.array([3.0, 4.0])}, **{"max_norm": 1.0, **kw})


BOUNDARIES = [
    Boundary("CharLM.next_probabilities char", lambda v: RC.CharLM(LM).next_probabilities(v), "char",
             integers(0, V - 1)),
    Boundary("CharLM.scores idx", lambda v: RC.CharLM(LM).scores(np.array([[0, v]])), "idx", INDICES),
    Boundary("CharLM.loss next characters", lambda v: RC.CharLM(LM).loss(np.array([[0, 1]]), np.array([[2, v]])), "t",
             Domain(accepted=(0, V - 1), refused=(-1, V, NAN))),
    Boundary("Embedding idx", lambda v: RC.Embedding(LM["E"]).forward(np.array([v, 0])), "idx",
             Domain(accepted=(0, V - 1), refused=(-1, V, V + 1, 1.0))),
    Boundary("Embedding V", lambda v: RC.Embedding(np.ones((v, 2))), "W", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("TimeLinear D", lambda v: RC.TimeLinear(np.ones((v, 2)), np.zeros(2)), "W",
             Domain(accepted=(1, 2), refused=(0,))),
    Boundary("RNN input size D", lambda v: rnn(d=v), "Wx", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("RNN hidden size H", lambda v: rnn(h=v), "Wx", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("RNN batch N", lambda v: rnn().forward(np.ones((v, 2, D))), "x", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("RNN steps T", lambda v: rnn().forward(np.ones((2, v, D))), "x", Domain(accepted=(1, 2), refused=(0,))),
    Boundary("backward truncate", backward_truncated, "truncate", integers(1)),
    Boundary("clip_grad_norm max_norm", lambda v: clipped(max_norm=v), "max_norm",
             interval(0.0, INF, low_open=True, finite=False)),
    Boundary("clip_grad_norm eps", lambda v: clipped(eps=v), "eps", interval(0.0, INF, high_open=True)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
