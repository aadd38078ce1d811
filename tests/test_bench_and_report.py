"""Issue 5: the benchmark and the study guide as a whole."""

import json

import pytest

from comparisons import runner
from comparisons.bench import run_bench
from comparisons.cli import main
from comparisons.context import RunOptions


def test_bench_writes_table_figure_and_ratios(tmp_path):
    frame = run_bench(tmp_path / "bench", repeats=2)
    assert set(frame["side"]) >= {"NumPy", "torch cpu"}
    assert (frame[frame["side"] == "NumPy"]["÷ NumPy"] == 1.0).all()
    for name in ("bench.csv", "bench.md", "bench.json", "bench.png"):
        assert (tmp_path / "bench" / name).exists()
    meta = json.loads((tmp_path / "bench" / "bench.json").read_text())["meta"]
    assert meta["threads"]["torch"] == 1


def test_bench_rejects_cuda_without_gpu(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["bench", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_report_has_matrix_toc_bench_and_glossary(tmp_path):
    out = tmp_path / "rep"
    run_bench(out / "bench", repeats=1)
    runner.run_and_write(["softmax", "losses"], RunOptions(dtypes=("float64", "float32")), out)
    md = (out / "index.md").read_text()
    html = (out / "index.html").read_text()
    assert "## Pass/fail by concept and dtype" in md and "| float64 |" in md.replace(" float64 ", " float64 |")
    assert "## Contents" in md and "(#losses)" in md
    assert "## Benchmark" in md and "÷ NumPy" in md
    assert "## Glossary" in md and "오차제곱합" in md
    assert 'id="losses"' in html and "data:image/png;base64" in html
    assert html.count("<img") >= 3  # concept figures and the benchmark, embedded
    assert (out / "bench" / "bench.md").exists(), "the benchmark is kept when the report is rewritten"


def test_results_json_numbers_identical_across_runs(tmp_path):
    def checks(folder):
        runner.run_and_write(["activations", "optimizers"], RunOptions(seed=4, dtypes=("float64", "float32")), folder)
        return json.loads((folder / "results.json").read_text())["checks"]

    a, b = checks(tmp_path / "a"), checks(tmp_path / "b")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
