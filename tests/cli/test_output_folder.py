"""Output folders (`run --out`, `bench --out`): nothing a user owns is deleted, renamed or hidden.

A folder is replaced only when it is new, empty, or an earlier output of this project (its marker
lists every file it wrote); anything else stops the command with exit 2 and a one-line reason before
anything is created or removed. The new output is written beside the folder and swapped in when
complete; a killed command's leftovers are removed by the next one, and only when provably ours.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import pytest

from comparisons.cli import main
from comparisons.outdir import MARKER, PROJECT_ROOT, OutputFolderError, check_output_folder, replacing

WRITER = "tests: a small output"


def write_output(out, text="new"):
    """An output of this project, written the way every command writes one."""
    with replacing(out, WRITER) as folder:
        (folder / "index.md").write_text(text)
        (folder / "figures").mkdir()
        (folder / "figures" / "plot.png").write_text(text)


def snapshot(root: Path) -> dict:
    """Everything under ``root``, hidden entries included: kind, content, mode and mtime."""
    state = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(here) / name
            info = path.lstat()
            content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            state[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), content, info.st_mode, info.st_mtime_ns)
    return state


def refused(argv, capsys) -> str:
    """Run the command line, expect exit 2, return its one-line reason."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


# --- what is written ---------------------------------------------------------------------------------

def test_a_new_folder_gets_the_output_and_a_marker_listing_every_file(tmp_path):
    out = tmp_path / "a" / "b" / "rep"
    write_output(out)
    marker = json.loads((out / MARKER).read_text())
    new = hashlib.sha256(b"new").hexdigest()
    assert marker == {"written_by": WRITER, "files": ["figures/", "figures/plot.png", "index.md"],
                      "sha256": {"figures/plot.png": new, "index.md": new}}
    assert len((out / MARKER).read_text().splitlines()) == 1
    assert [p.name for p in (tmp_path / "a" / "b").iterdir()] == ["rep"], "nothing is left beside it"


def test_an_earlier_output_is_replaced_and_leaves_no_hidden_folder(tmp_path):
    out = tmp_path / "rep"
    write_output(out, "old")
    write_output(out, "new")
    assert (out / "index.md").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_an_empty_folder_is_replaced(tmp_path):
    (tmp_path / "rep").mkdir()
    write_output(tmp_path / "rep")
    assert (tmp_path / "rep" / "index.md").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_a_folder_holding_only_a_bench_output_is_replaced(tmp_path):
    out = tmp_path / "rep"
    write_output(out / "bench", "bench")
    write_output(out)
    assert (out / "index.md").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_an_error_while_writing_keeps_the_earlier_output(tmp_path):
    out = tmp_path / "rep"
    write_output(out, "old")
    before = snapshot(tmp_path)
    with pytest.raises(ZeroDivisionError):
        with replacing(out, WRITER) as folder:
            (folder / "index.md").write_text("half")
            1 / 0
    assert snapshot(tmp_path) == before


def test_a_run_into_a_folder_replaces_it_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["run", "softmax", "--out", str(out)]) == 0
    first = json.loads((out / MARKER).read_text())
    assert first["written_by"] == "python -m comparisons run"
    assert "results.json" in first["files"] and "index.html" in first["files"]
    assert main(["run", "softmax", "--out", str(out)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


@pytest.mark.parametrize("umask, dir_mode, file_mode", [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_permissions_of_the_written_folder_follow_the_umask(tmp_path, capsys, umask, dir_mode, file_mode):
    old = os.umask(umask)
    try:
        assert main(["run", "softmax", "--out", str(tmp_path / "rep")]) == 0
    finally:
        os.umask(old)
    out = tmp_path / "rep"
    for folder in (out, out / "figures", out / "tables"):
        assert stat.S_IMODE(folder.stat().st_mode) == dir_mode, folder
    for file in (out / "results.json", out / "index.html", out / MARKER, out / "figures" / "softmax-probabilities.png"):
        assert stat.S_IMODE(file.stat().st_mode) == file_mode, file


def test_the_committed_report_may_be_rewritten_by_make_report():
    assert check_output_folder(PROJECT_ROOT / "reports") == PROJECT_ROOT / "reports"
    assert check_output_folder(PROJECT_ROOT / "reports" / "bench") == PROJECT_ROOT / "reports" / "bench"


# --- what is refused, with nothing touched ---------------------------------------------------------------

def _user_folder(root):
    (root / "out").mkdir()
    (root / "out" / "my_code.py").write_text("print('mine')\n")


def _user_file_in_report(root):
    write_output(root / "out")
    (root / "out" / "notes.txt").write_text("my notes\n")


def _user_file_deep_in_report(root):
    write_output(root / "out")
    (root / "out" / "figures" / "my_plot.png").write_text("mine\n")


def _user_folder_in_report(root):
    write_output(root / "out")
    (root / "out" / "drafts").mkdir()


def _user_link_in_report(root):
    (root / "elsewhere.txt").write_text("linked\n")
    write_output(root / "out")
    (root / "out" / "link").symlink_to(root / "elsewhere.txt")


def _marker_without_list(root):
    (root / "out").mkdir()
    (root / "out" / "data.csv").write_text("1,2\n")
    (root / "out" / MARKER).write_text('{"written_by": "someone"}\n')


def _marker_saying_being_written(root):
    (root / "out").mkdir()
    (root / "out" / "data.csv").write_text("1,2\n")
    (root / "out" / MARKER).write_text('{"written_by": "someone", "files": null, "pid": 1}\n')


def _report_whose_marker_was_edited(root):
    write_output(root / "out")
    (root / "out" / MARKER).write_text("not json\n")


@pytest.mark.parametrize("command", [["run", "softmax"], ["bench"]])
@pytest.mark.parametrize("make, named", [
    (_user_folder, "my_code.py"),
    (_user_file_in_report, "notes.txt"),
    (_user_file_deep_in_report, "figures/my_plot.png"),
    (_user_folder_in_report, "drafts"),
    (_user_link_in_report, "link"),
    (_marker_without_list, "data.csv"),
    (_marker_saying_being_written, "data.csv"),
    (_report_whose_marker_was_edited, "figures"),
])
def test_a_folder_with_anything_this_project_did_not_write_is_refused(tmp_path, capsys, command, make, named):
    make(tmp_path)
    before = snapshot(tmp_path)
    err = refused(command + ["--out", str(tmp_path / "out")], capsys)
    assert str(tmp_path / "out") in err and named in err and "not written by this project" in err
    assert snapshot(tmp_path) == before


# --- what a user wrote into an earlier output is kept --------------------------------------------------

def _edited_in_place(root):
    write_output(root / "out")
    (root / "out" / "figures" / "plot.png").write_text("my better plot")


def _edited_back_to_the_same_length(root):
    write_output(root / "out", "abc")
    (root / "out" / "index.md").write_text("abd")


def _emptied(root):
    write_output(root / "out")
    (root / "out" / "index.md").write_text("")


@pytest.mark.parametrize("command", [["run", "softmax"], ["bench"], ["sweep", "softmax", "--seeds", "0"]])
@pytest.mark.parametrize("make, named", [(_edited_in_place, "figures/plot.png"),
                                         (_edited_back_to_the_same_length, "index.md"), (_emptied, "index.md")])
def test_a_file_edited_since_it_was_written_is_refused(tmp_path, capsys, command, make, named):
    make(tmp_path)
    before = snapshot(tmp_path)
    err = refused(command + ["--out", str(tmp_path / "out")], capsys)
    assert str(tmp_path / "out") in err and named in err and "changed since this project wrote it" in err
    assert "copy the file elsewhere" in err and "delete the file" in err
    assert snapshot(tmp_path) == before


def test_an_edit_deleted_by_its_user_lets_the_folder_be_replaced(tmp_path):
    _edited_in_place(tmp_path)
    with pytest.raises(OutputFolderError, match="figures/plot.png"):
        write_output(tmp_path / "out", "newer")
    (tmp_path / "out" / "figures" / "plot.png").unlink()  # the user lets the edit go
    write_output(tmp_path / "out", "newer")
    assert (tmp_path / "out" / "figures" / "plot.png").read_text() == "newer"


def test_a_marker_without_hashes_cannot_prove_its_files_unedited(tmp_path, capsys):
    """A marker written before content hashes were kept lists names only: its files are refused
    (the README tells the user to keep what they want elsewhere and delete the folder)."""
    write_output(tmp_path / "out")
    marker = json.loads((tmp_path / "out" / MARKER).read_text())
    del marker["sha256"]
    (tmp_path / "out" / MARKER).write_text(json.dumps(marker) + "\n")
    before = snapshot(tmp_path)
    err = refused(["run", "softmax", "--out", str(tmp_path / "out")], capsys)
    assert "figures/plot.png" in err and "kept no content hashes" in err and "cannot be proven unedited" in err
    assert snapshot(tmp_path) == before
    shutil.rmtree(tmp_path / "out")
    write_output(tmp_path / "out")  # deleted by its user: written anew


def test_a_bench_inside_a_report_is_checked_file_by_file(tmp_path, capsys):
    write_output(tmp_path / "out")
    write_output(tmp_path / "out" / "bench", "bench")
    (tmp_path / "out" / "bench" / "index.md").write_text("my notes on the timings")
    err = refused(["run", "softmax", "--out", str(tmp_path / "out")], capsys)
    assert "bench/index.md, changed since this project wrote it" in err


# --- the site rebuild writes its pages under the same rule -------------------------------------------------

def _site(folder, capsys):
    """``python -m comparisons.site --from folder``: (exit status, stderr)."""
    from comparisons.site.__main__ import main as site_main

    status = site_main(["--from", str(folder)])
    return status, capsys.readouterr().err.strip()


def test_rebuilding_the_pages_of_a_report_records_them(small_report, tmp_path, capsys):
    folder = tmp_path / "rep"
    shutil.copytree(small_report, folder)
    (folder / "concepts" / "softmax.html").unlink()  # a page the user deleted is written anew
    assert _site(folder, capsys)[0] == 0
    assert (folder / "concepts" / "softmax.html").exists()
    assert check_output_folder(folder) == folder, "every page rewritten is still provably ours"


@pytest.mark.parametrize("page", ["index.html", "concepts/softmax.html", "style.css", "bench/index.html"])
def test_rebuilding_the_pages_keeps_a_page_the_user_edited(small_report, tmp_path, capsys, page):
    folder = tmp_path / "rep"
    shutil.copytree(small_report, folder)
    (folder / page).write_text("<p>my own page</p>")
    before = snapshot(tmp_path)
    status, err = _site(folder, capsys)
    assert status == 2 and len(err.splitlines()) == 1
    assert page in err and "changed since this project wrote it" in err
    assert snapshot(tmp_path) == before


def test_rebuilding_the_pages_keeps_a_file_the_project_did_not_write(small_report, tmp_path, capsys):
    folder = tmp_path / "rep"
    shutil.copytree(small_report, folder)
    (folder / MARKER).unlink()  # no marker: not one page can be proven ours
    before = snapshot(tmp_path)
    status, err = _site(folder, capsys)
    assert status == 2 and "not written by this project" in err
    assert snapshot(tmp_path) == before


def test_the_reason_stays_one_line_whatever_the_folder_is_called(tmp_path, capsys):
    out = tmp_path / "my\nreport"
    out.mkdir()
    (out / "draft.md").write_text("mine\n")
    err = refused(["run", "softmax", "--out", str(out)], capsys)  # one line, checked by refused()
    assert "draft.md" in err and (out / "draft.md").read_text() == "mine\n"


@pytest.mark.parametrize("name, reason", [("notes.txt", "not written by this project"),
                                          ("index.md", "changed since this project wrote it")])
def test_a_file_added_or_edited_while_the_command_runs_is_kept(tmp_path, name, reason):
    out = tmp_path / "rep"
    write_output(out, "old")
    with pytest.raises(OutputFolderError, match=f"{name}, {reason}"):
        with replacing(out, WRITER) as folder:
            (folder / "index.md").write_text("new")
            (out / name).write_text("written while the run ran\n")
    assert (out / name).read_text() == "written while the run ran\n"
    assert (out / "figures" / "plot.png").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


@pytest.mark.parametrize("command", [["run", "softmax"], ["bench"]])
def test_a_file_is_refused(tmp_path, capsys, command):
    (tmp_path / "results").write_text("mine\n")
    before = snapshot(tmp_path)
    err = refused(command + ["--out", str(tmp_path / "results")], capsys)
    assert "results" in err and "is a file" in err
    assert refused(command + ["--out", str(tmp_path / "results" / "rep")], capsys).endswith(
        "is a file, so no folder can be made under it; nothing was changed")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("out", [".", "", "./", "work/..", "{cwd}", "{cwd}/..", "{root}", "{root}/..", "/"])
def test_the_current_folder_its_ancestors_and_the_project_are_refused(tmp_path, capsys, monkeypatch, out):
    # the current folder is an earlier output and its parent holds nothing else: only the rule
    # about the current folder and the project stops the command
    work = tmp_path / "work"
    write_output(work)
    monkeypatch.chdir(work)
    out = out.format(cwd=work, root=PROJECT_ROOT)
    before, project_before = snapshot(tmp_path), sorted(os.listdir(PROJECT_ROOT))
    err = refused(["run", "softmax", "--out", out], capsys)
    assert err.startswith("error: --out")
    assert any(reason in err for reason in ("must name a folder", "current folder", "holds this project"))
    assert snapshot(tmp_path) == before
    assert sorted(os.listdir(PROJECT_ROOT)) == project_before


def test_a_broken_link_is_refused(tmp_path, capsys):
    (tmp_path / "rep").symlink_to(tmp_path / "nowhere")
    assert "broken symbolic link" in refused(["run", "softmax", "--out", str(tmp_path / "rep")], capsys)
    assert not (tmp_path / "nowhere").exists()


def test_a_link_to_an_earlier_output_replaces_the_output_and_keeps_the_link(tmp_path):
    write_output(tmp_path / "real", "old")
    (tmp_path / "rep").symlink_to(tmp_path / "real")
    write_output(tmp_path / "rep", "new")
    assert (tmp_path / "rep").is_symlink() and (tmp_path / "real" / "index.md").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "rep"]


def where_modes_apply(check):
    """Run ``check(folder)`` on a fresh folder of a user to whom file modes apply: this user, or,
    when the tests run as root (whom modes do not stop), the user 'nobody' in a forked process."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        with tempfile.TemporaryDirectory() as folder:
            try:
                return check(Path(folder))
            finally:
                for here, dirs, _ in os.walk(folder):
                    for d in dirs:
                        os.chmod(os.path.join(here, d), 0o755)
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        os.chown(folder, 65534, 65534)
        pid = os.fork()
        if pid == 0:  # the child: drop to 'nobody', run the check, report by exit status
            status = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                check(Path(folder))
                status = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(status)
        assert os.waitpid(pid, 0)[1] == 0, "the check failed as user 'nobody' (traceback above)"


def test_an_unwritable_parent_is_found_before_the_run():
    def check(folder):
        locked = folder / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        with pytest.raises(OutputFolderError, match=f"the folder {locked} is not writable"):
            with replacing(locked / "rep", WRITER):
                raise AssertionError("the block ran")
        assert list(locked.iterdir()) == []
    where_modes_apply(check)


def test_an_earlier_output_that_cannot_be_removed_is_found_before_the_run():
    def check(folder):
        write_output(folder / "rep")
        (folder / "rep" / "figures").chmod(0o555)
        before = snapshot(folder)
        with pytest.raises(OutputFolderError, match="figures is not writable"):
            with replacing(folder / "rep", WRITER):
                raise AssertionError("the block ran")
        assert snapshot(folder) == before
    where_modes_apply(check)


@pytest.mark.parametrize("locked, message", [("rep", "rep: cannot be read, so what it holds cannot be checked"),
                                             ("rep/figures", "cannot be used: Permission denied")])
def test_an_output_that_cannot_be_read_is_one_line_before_the_run(locked, message):
    def check(folder):
        write_output(folder / "rep")
        (folder / locked).chmod(0o000)
        with pytest.raises(OutputFolderError, match=message) as info:
            with replacing(folder / "rep", WRITER):
                raise AssertionError("the block ran")
        assert "\n" not in str(info.value)
        (folder / locked).chmod(0o755)
        assert (folder / "rep" / "figures" / "plot.png").read_text() == "new"
        assert sorted(p.name for p in folder.iterdir()) == ["rep"]
    where_modes_apply(check)


def test_a_folder_beside_which_nothing_can_be_written_is_refused_before_the_run(tmp_path, capsys):
    """Whatever the modes say (root ignores them), the temporary folder beside DIR is made before
    the run starts: here its name would pass the file system's limit of 255 bytes. The one line on
    stderr shows that no concept ran (each prints its progress there)."""
    out = tmp_path / ("r" * 250)
    err = refused(["run", "softmax", "--out", str(out)], capsys)
    assert "cannot write beside it" in err and str(out) in err
    assert list(tmp_path.iterdir()) == []


# --- leftovers of a killed command --------------------------------------------------------------------------

KILLED_WRITER = """
import sys, time
from comparisons.outdir import replacing
with replacing(sys.argv[1], "a run about to be killed") as folder:
    (folder / "figures").mkdir()
    (folder / "figures" / "half.png").write_text("half")
    print(folder.name, flush=True)
    time.sleep(120)
"""


def killed_run(out) -> str:
    """Start a command writing into ``out``, kill it with SIGKILL mid-write; the name it left."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    name = proc.stdout.readline().strip()
    proc.kill()
    proc.wait()
    proc.stdout.close()
    return name


def exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "rep"
    write_output(out, "old")
    tmp_name = killed_run(out)
    assert tmp_name.startswith(".rep.tmp-") and (tmp_path / tmp_name / "figures" / "half.png").exists()
    # killed between moving the old report aside and moving the new one in: the old one, marked
    old = tmp_path / f".rep.old-{exited_pid()}-0123abcd"
    (tmp_path / "rep").rename(old)
    write_output(out, "new")
    assert (out / "index.md").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_only_provable_leftovers_are_removed(tmp_path):
    out = tmp_path / "rep"
    gone = exited_pid()
    keep = {
        # the right name, but no marker: a user's folder
        f".rep.tmp-{gone}-0123abcd": None,
        # marked, but its process still runs (this one): another command writing now
        f".rep.old-{os.getpid()}-0123abcd": "ours",
        # marked and finished, but it holds a file nobody listed
        f".rep.old-{gone}-4567abcd": "foreign",
        # a leftover of another folder's output
        f".other.tmp-{gone}-0123abcd": "ours",
        # not the exact pattern
        f".rep.old-{gone}": "ours",
        f"rep.old-{gone}-0123abcd": "ours",
    }
    for name, kind in keep.items():
        if kind is None:
            (tmp_path / name).mkdir()
            (tmp_path / name / "mine.txt").write_text("mine")
        else:
            write_output(tmp_path / name)
            if kind == "foreign":
                (tmp_path / name / "mine.txt").write_text("mine")
    before = snapshot(tmp_path)
    write_output(out)
    after = snapshot(tmp_path)

    def others(state):
        return {k: v for k, v in state.items() if k != "rep" and not k.startswith("rep/")}
    assert others(after) == others(before)
    assert sorted(after.keys() - before.keys()) == ["rep", "rep/.comparisons-report", "rep/figures",
                                                    "rep/figures/plot.png", "rep/index.md"]


def test_a_killed_bench_inside_a_report_does_not_block_the_report(tmp_path, capsys):
    out = tmp_path / "rep"
    write_output(out, "old")
    killed_run(out / "bench")
    write_output(out, "new")
    assert (out / "index.md").read_text() == "new"
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "figures", "index.md"]


def test_a_command_writing_beside_another_leaves_the_others_folder_alone(tmp_path):
    out = tmp_path / "rep"
    with replacing(out, WRITER) as first:
        write_output(out, "second")  # a second command into the same folder, while the first runs
        assert first.exists()
        (first / "index.md").write_text("first")
    assert (out / "index.md").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_a_report_with_bench_and_sweep_pages_can_be_rewritten(tmp_path):
    """The site writes bench/index.html and sweep/index.html into folders other commands wrote; their
    markers list those pages, so the next run may replace the report."""
    from comparisons import runner
    from comparisons.context import RunOptions
    from comparisons.sweep import write_sweep

    out = tmp_path / "rep"
    write_sweep({"seeds": [0], "dtypes": ["float64"], "concepts": ["softmax"], "wall_s": 1.0, "checks": []}, out / "sweep")
    runner.run_and_write(["softmax"], RunOptions(), out)
    assert (out / "sweep" / "index.html").exists()
    runner.run_and_write(["softmax"], RunOptions(), out)  # would raise OutputFolderError on an unlisted page
    assert (out / "sweep" / "sweep.json").exists() and (out / "index.html").exists()
