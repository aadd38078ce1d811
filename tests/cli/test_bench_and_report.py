"""The benchmark, and the report as a whole: what a run leaves in its folder."""

import json

import pytest

from comparisons.bench import run_bench
from comparisons.cli import main


def test_bench_writes_table_figure_and_ratios(tmp_path):
    frame = run_bench(tmp_path / "bench", repeats=1)
    assert set(frame["side"]) >= {"NumPy", "torch cpu"} and "÷ NumPy" in frame
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


def test_report_keeps_the_benchmark_and_writes_the_site(small_report):
    assert (small_report / "bench" / "bench.md").exists(), "the benchmark is kept when the report is rewritten"
    bench = (small_report / "bench" / "index.html").read_text()
    assert "÷ NumPy" in bench and '<img src="bench.png"' in bench
    index = (small_report / "index.html").read_text()
    assert 'href="concepts/losses.html"' in index and 'href="glossary.html"' in index
    assert (small_report / "tables" / "losses-checks.csv").exists() and (small_report / "tables" / "summary.md").exists()
