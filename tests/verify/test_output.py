"""What verify prints: hints wrapped to the terminal (whole lines in a pipe), a notebook's summary
line and first mismatch with hints written as Python, and help and the list of references without
importing torch."""

import os
import subprocess
import sys

from comparisons import verify_text
from comparisons.verify import format_file_result, format_result

from .files import BOOK, judged, one


def test_hints_are_wrapped_to_the_terminal_width(monkeypatch):
    found, skipped = judged(BOOK, "common/optimizer.py")
    monkeypatch.setattr(verify_text, "width", lambda: 80)
    text = format_file_result(type("F", (), {"path": "p", "results": list(found.values()), "skipped": []})())
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "--hparam eps=1e-07" in text
    single = format_result(found["AdaGrad"])
    assert all(len(line) <= 80 for line in single.splitlines() if not line.startswith(("check", "x²", "least")))


def test_in_a_pipe_a_hint_is_one_line():
    found, _ = judged(BOOK, "common/optimizer.py")
    lines = format_result(found["AdaGrad"]).splitlines()
    assert any(line.startswith("  hint: a convention") and line.endswith("the verdict is AGREES") for line in lines)


def test_a_notebook_gets_a_summary_the_first_mismatch_and_python_hparams():
    from comparisons.verify import FileResult

    found, skipped = judged(BOOK, "common/layers.py")
    html = FileResult("common/layers.py", list(found.values()), list(skipped.items()))._repr_html_()
    agree = sum(r.passed for r in found.values())
    assert f"{agree}/{len(found)} agree" in html
    assert "first mismatch" in html and "yours <b>" in html and "PyTorch's <b>" in html
    assert 'hparams={&quot;delta&quot;: 1e-07}' in html and "--hparam" not in html
    single = one(BOOK, "layer", "common/layers.py:SoftmaxWithLoss", "softmax-with-loss")._repr_html_()
    assert 'hparams={&quot;delta&quot;: 1e-07}' in single


def test_as_python():
    text = "With --hparam eps=1e-07 --hparam folded=1 the verdict is AGREES; or --hparam activation=sigmoid"
    assert verify_text.as_python(text) == ('With hparams={"eps": 1e-07, "folded": 1} the verdict is AGREES; or '
                                           'hparams={"activation": "sigmoid"}')


def _imports_torch(*argv, env=None) -> bool:
    code = ("import sys, runpy; sys.argv = ['comparisons', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('comparisons', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO TORCH', file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return "NO TORCH" not in done.stderr


def test_help_and_the_list_do_not_import_torch(tmp_path):
    assert not _imports_torch("--help")
    assert not _imports_torch("verify", "--help")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    _imports_torch("verify", "--list", env=env)  # made once (unless the packaged copy is current), then kept
    assert not _imports_torch("verify", "--list", env=env)


def test_the_kept_list_is_the_list():
    from comparisons import references

    assert references.listing() == references.live()
