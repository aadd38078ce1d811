"""Numbers people read: every error beside its tolerance, so that a passing check never reads as
an alarm; differences that say by how much they differ and that their relation holds; a sweep
page with readable headings, percentages and its counts explained; timings that say which run
measured them."""

import json
import re

import pytest

from comparisons.site.numbers import share_text, tolerance_share, worst_share
from comparisons.site.strings import WORDS

from .conftest import REPORTS


def record(**kw):
    return {"passed": True, "kind": "exact", "max_abs_err": 1e-13, "max_rel_err": 1.9, "atol": 1e-12, "rtol": 1e-10} | kw


@pytest.mark.parametrize("rec, kind, shown", [
    (record(), "ratio", "0.1"),
    (record(max_abs_err=0.0), "ratio", "0"),
    (record(max_abs_err=3e-12), "rtol", "< 1 (by rtol)"),
    (record(max_abs_err=3e-12, passed=False), "failed", "> 1"),
    (record(kind="finding", atol=None, rtol=None, max_abs_err=0.94), "none", "–"),
    (record(kind="statistical", max_abs_err=0.0043, atol=0.049, rtol=0.0), "ratio", "0.088"),
    (record(tol_ratio=0.37, max_abs_err=5.0), "ratio", "0.37"),
])
def test_an_error_is_shown_as_the_share_of_its_tolerance(rec, kind, shown):
    share = tolerance_share(rec)
    assert share[0] == kind
    assert share_text(share, WORDS["en"]) == shown


def test_the_worst_share_of_a_concept_is_its_closest_call():
    assert worst_share([record(), record(max_abs_err=5e-13)]) == ("ratio", 0.5)
    assert worst_share([record(), record(max_abs_err=3e-12)])[0] == "rtol"
    assert worst_share([record(max_abs_err=3e-12), record(passed=False)])[0] == "failed"


def matrix_cells(html: str) -> list[str]:
    table = html[html.index('<table class="matrix'):html.index("</table>", html.index('<table class="matrix'))]
    return re.findall(r'<td class="num share [a-z]+"[^>]*>([^<]*)</td>', table)


def test_the_front_page_never_shows_a_passing_check_as_an_alarm(committed_site):
    for page in ("index.html", "ko/index.html"):
        html = (committed_site / page).read_text(encoding="utf-8")
        cells = matrix_cells(html)
        assert cells, page
        for cell in cells:
            if re.fullmatch(r"[0-9.e+-]+", cell):
                assert float(cell) <= 1, f"{page}: a passing concept shows {cell}"
        assert "largest relative error" not in html


def test_the_differences_say_how_the_run_proved_them(committed_site):
    html = (committed_site / "concepts" / "rnn.html").read_text(encoding="utf-8")
    table = html[html.index('id="differences"'):html.index('id="checks"')]
    verdicts = re.findall(r'<td class="verdict"[^>]*><span class="(\w*)">([^<]+)</span>', table)
    assert verdicts and all(cls == "pass" for cls, _ in verdicts)
    assert any(re.fullmatch(r"differs by [0-9.e+-]+ \(the relation holds\)", v) for _, v in verdicts)
    assert any(re.fullmatch(r"agrees: error ÷ tolerance [0-9.e+-]+", v) for _, v in verdicts)
    assert all(v != "✓" for _, v in verdicts), "no bare tick"
    korean = (committed_site / "ko" / "concepts" / "rnn.html").read_text(encoding="utf-8")
    assert re.search(r"[0-9.e+-]+만큼 다름 \(관계식은 성립\)", korean)


def test_the_checks_table_puts_the_verdict_and_the_error_first(committed_site):
    html = (committed_site / "concepts" / "softmax.html").read_text(encoding="utf-8")
    row = re.search(r'<table class="checks cards">.*?<tbody>\s*<tr[^>]*>(.*?)</tr>', html, re.S)[1]
    cells = re.findall(r'<td class="([^"]*)"', row)
    assert cells[0].startswith("verdict") and "share" in cells[2]


@pytest.fixture(scope="module")
def sweep():
    path = REPORTS / "sweep" / "sweep.json"
    if not path.is_file():
        pytest.skip("no committed sweep")
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_sweep_page_reads_as_a_summary_with_its_counts_explained(committed_site, sweep):
    html = (committed_site / "sweep" / "index.html").read_text(encoding="utf-8")
    heads = re.findall(r"<th>([^<]*)</th>", html)
    assert "pass rate" in heads and not {"pass_rate", "worst_max_rel_err", "worst_max_abs_err"} & set(heads)
    assert 'data-label="pass rate">100%</td>' in html
    for name in ("sweep.csv", "sweep.json"):
        assert f'href="{name}"' in html
    assert 'id="per-concept"' in html and html.count('<a href="../concepts/') >= 21
    report = json.loads((REPORTS / "results.json").read_text(encoding="utf-8"))
    n_sweep = len({(c["concept"], c["check"], c["dtype"]) for c in sweep["checks"]})
    n_report = len({(c["concept"], c["check"], c["dtype"]) for c in report["checks"]})
    assert f"The sweep counts {n_sweep:,} checks, the report {n_report:,}" in html
    footer = html[html.index("<footer>"):]
    seeds = sweep["seeds"]
    assert f"{len(seeds)} seeds ({seeds[0]}–{seeds[-1]})" in footer and "a run with seed" not in footer


def test_the_benchmark_says_its_timings_come_from_its_own_run(committed_site):
    html = (committed_site / "bench" / "index.html").read_text(encoding="utf-8")
    assert "its own run" in html and "the convolution page" in html
    korean = (committed_site / "ko" / "bench" / "index.html").read_text(encoding="utf-8")
    assert "별도 실행" in korean and "합성곱 페이지" in korean


def test_a_failed_check_is_shown_first_with_where_it_failed_in_both_editions(small_report, tmp_path):
    import shutil

    from comparisons.site import build_site

    folder = tmp_path / "report"
    shutil.copytree(small_report, folder)
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    bad = next(c for c in results["checks"] if c["concept"] == "losses" and c["kind"] == "exact")
    bad.update(passed=False, max_abs_err=0.5, note="planted", first_mismatch={"index": [3], "actual": 0.25, "expected": 0.75})
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    build_site(folder)
    english = (folder / "concepts" / "losses.html").read_text(encoding="utf-8")
    korean = (folder / "ko" / "concepts" / "losses.html").read_text(encoding="utf-8")
    assert "First mismatch at [3]: NumPy 0.25, PyTorch 0.75." in english
    assert "처음 어긋난 곳 [3]: NumPy 0.25, PyTorch 0.75." in korean
    assert english.index('<div class="failed">') < english.index('id="lesson"')
    row = re.search(r'<tr class="fail">.*?</tr>', english, re.S)[0]
    assert '<td class="num share failed"' in row and "&gt; 1" in row
