"""CS231n's own files as its assignments ask for them (tests/fixtures/cs231n_sets): packages with
relative imports, ``X_forward``/``X_backward`` couples (a second backward ``_alt`` too), the update
rules of ``optim.py``, the networks with their dtype, normalization and dropout options, and the
meaning of dropout's ``p``."""

import textwrap

from comparisons.cli import main
from comparisons.verify import format_result

from .files import PLANTED, SETS, inside, judged, one

A2, A3 = SETS / "assignment2", SETS / "assignment3"


def test_layers_with_normalization_and_a_second_backward():
    found, skipped = judged(A2, "cs231n/layers.py")
    for name in ("affine_forward/affine_backward", "relu_forward/relu_backward", "dropout_forward/dropout_backward",
                 "layernorm_forward/layernorm_backward", "spatial_groupnorm_forward/spatial_groupnorm_backward",
                 "conv_forward_naive/conv_backward_naive", "svm_loss", "softmax_loss"):
        assert found[name].verdict == "agrees", format_result(found[name])
    for name in ("batchnorm_forward/batchnorm_backward", "batchnorm_forward/batchnorm_backward_alt",
                 "spatial_batchnorm_forward/spatial_batchnorm_backward"):
        hint = found[name].hint
        assert "--hparam running_var_init=0" in hint and "--hparam unbiased_running_var=0" in hint, name
    assert found["spatial_groupnorm_forward/spatial_groupnorm_backward"].against == "groupnorm"
    assert any("probability to keep" in n for n in found["dropout_forward/dropout_backward"].notes)
    assert not skipped


def test_a_drop_probability_is_told_from_a_keep_probability(tmp_path):
    path = tmp_path / "layers_2017.py"
    path.write_text(textwrap.dedent("""
        import numpy as np

        def dropout_forward(x, dropout_param):
            p, mode = dropout_param["p"], dropout_param["mode"]
            mask = (np.random.rand(*x.shape) >= p) / (1 - p) if mode == "train" else None
            return (x * mask if mode == "train" else x), (dropout_param, mask)

        def dropout_backward(dout, cache):
            dropout_param, mask = cache
            return dout * mask if dropout_param["mode"] == "train" else dout
    """))
    found, _ = judged(tmp_path, "layers_2017.py")
    result = found["dropout_forward/dropout_backward"]
    assert result.passed and any("probability to drop" in n for n in result.notes)


def test_update_rules_of_optim_py():
    found, skipped = judged(A2, "cs231n/optim.py")
    assert {n: r.against for n, r in found.items()} == {"sgd": "sgd", "sgd_momentum": "momentum", "rmsprop": "rmsprop",
                                                          "adam": "adam"}
    assert all(r.passed for r in found.values()) and not skipped
    wrong = one(PLANTED, None, "styles.py:adam")  # t one step ahead: named, not passed
    assert wrong.against == "adam" and wrong.verdict == "differs"
    assert "t is one step ahead in the bias correction" in wrong.hint


def test_networks_inside_a_package():
    found, _ = judged(A2, "cs231n/classifiers/fc_net.py")  # from ..layers import *
    net = found["FullyConnectedNet"]
    assert net.passed, format_result(net)
    assert any(r.check.startswith("batchnorm: gradient gamma1") for r in net.records)
    assert any(r.check.startswith("layernorm: gradient beta2") for r in net.records)
    assert any("dropout_keep_ratio (default 1) is the probability to keep" in n for n in net.notes)
    found, _ = judged(A2, "cs231n/classifiers/cnn.py")
    assert found["ThreeLayerConvNet"].passed and any("(F − 1)/2" in n for n in found["ThreeLayerConvNet"].notes)
    found, skipped = judged(A2, "cs231n/layer_utils.py")
    assert {r.against for r in found.values()} == {"linear-relu", "conv-relu", "conv-relu-pool"}
    assert all(r.passed for r in found.values())
    assert "sandwich of layers (affine, norm, relu)" in skipped["affine_norm_relu_forward"]


def test_temporal_layers_and_word_embedding():
    found, skipped = judged(A3, "cs231n/rnn_layers.py")
    assert all(r.passed for r in found.values()), [format_result(r) for r in found.values() if not r.passed]
    assert found["temporal_affine_forward/temporal_affine_backward"].against == "time-affine"
    assert found["word_embedding_forward/word_embedding_backward"].against == "embedding"
    assert not skipped


def test_a_couple_named_in_the_single_object_form(capsys):
    with inside(A2):
        assert main(["verify", "layer", "cs231n/layers.py:batchnorm_forward/batchnorm_backward_alt",
                     "--hparam", "running_var_init=0", "--hparam", "unbiased_running_var=0"]) == 0
        assert main(["verify", "cs231n/layers.py:layernorm"]) == 0  # the stem alone, the reference from its name
    out = capsys.readouterr().out
    assert out.count("AGREES with PyTorch") == 2 and "against layer-norm" in out


def test_hparams_act_in_a_whole_file(capsys):
    with inside(A2):
        assert main(["verify", "cs231n/layers.py", "--hparam", "running_var_init=0", "--hparam",
                     "unbiased_running_var=0"]) == 0
        assert "12/12 agree" in capsys.readouterr().out
        assert main(["verify", "cs231n/layers.py", "--hparam", "batchnorm_forward.running_var_init=0"]) == 1
        assert main(["verify", "cs231n/layers.py", "--hparam", "folded=1"]) == 2
    assert "no object of cs231n/layers.py takes the hyperparameter 'folded'" in capsys.readouterr().err
