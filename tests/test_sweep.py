"""The seed sweep: every check's pass rate over seeds, its worst error and where it failed."""

from __future__ import annotations

import json

import pytest

from comparisons.cli import main
from comparisons.sweep import aggregate, parse_seeds


@pytest.mark.parametrize("spec, seeds", [("0-3", [0, 1, 2, 3]), ("5", [5]), ("0,5,7-9", [0, 5, 7, 8, 9]),
                                         ("2,2,1-2", [2, 1])])
def test_seeds_are_ranges_and_lists_each_once_in_order(spec, seeds):
    assert parse_seeds(spec) == seeds


@pytest.mark.parametrize("spec", ["", "x", "3-1", "-1", "1-", "0-2**70", str(2**63)])
def test_bad_seeds_name_the_option(spec):
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds(spec)


def _record(check, passed, rel, seed_kind="exact"):
    return {"concept": "c", "check": check, "dtype": "float64", "passed": passed, "max_rel_err": rel,
            "max_abs_err": rel, "kind": seed_kind}


def test_a_row_per_check_with_pass_rate_worst_error_and_failed_seeds():
    by_seed = {0: [_record("a", True, 1e-16), _record("b", True, 1e-15)],
               1: [_record("a", False, 1e-3), _record("b", True, 1e-14)],
               2: [_record("a", True, 1e-12)]}  # "b" missing at seed 2: it counts as failed there
    rows = {r["check"]: r for r in aggregate(by_seed)}
    assert rows["a"]["passed"] == 2 and rows["a"]["runs"] == 3 and rows["a"]["failed_seeds"] == [1]
    assert rows["a"]["worst_max_rel_err"] == 1e-3 and rows["a"]["worst_seed"] == 1
    assert rows["b"]["failed_seeds"] == [2] and rows["b"]["worst_seed"] == 1
    assert [r["check"] for r in aggregate(by_seed)][0] in ("a", "b")  # failing checks first


def test_sweep_command_writes_json_and_table_and_exits_0_when_all_pass(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "softmax", "--seeds", "3-4", "--dtype", "float32", "--jobs", "1", "--out", str(out)]) == 0
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["seeds"] == [3, 4] and sweep["dtypes"] == ["float32"]
    assert sweep["setup"] == "quick", "the sweep runs the quick set-ups unless --full"
    assert sweep["checks"] and all(c["runs"] == 2 and c["pass_rate"] == 1.0 for c in sweep["checks"])
    assert (out / "sweep.md").read_text().startswith("Seeds 3–4 (2) × float32, quick set-ups")
    assert "2 seeds" in capsys.readouterr().err


def test_sweep_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["sweep", "softmax", "--seeds", "0", "--out", str(tmp_path)]) == 2
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert "--jobs" not in capsys.readouterr().err
