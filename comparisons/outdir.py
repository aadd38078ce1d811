"""Output folders that never cost a user a file: ``run --out``, ``bench --out`` and ``sweep --out``.

A command writes its output into a fresh temporary folder beside DIR and swaps it in only when
complete, so an interrupted command leaves the previous output as it was. DIR is replaced only
when everything in it is provably ours:

- every folder this project writes carries a marker file, ``.comparisons-report``: one line of
  JSON naming the command that wrote it and every file and folder it wrote (``files``);
- a folder is ours when each thing in it is listed by its marker, or is a sub-folder with a marker
  of its own that is ours in turn (``bench/`` inside a report). An empty folder is ours trivially;
- a temporary folder being written carries a marker with ``"files": null`` (all of it is ours).

Anything else (a file the user added to a report, a folder without a marker, the current folder,
an ancestor of it or of the project, a file where a folder is expected) makes the command stop
with :class:`OutputFolderError` before anything is created or removed. The leftovers of a killed
command (``.DIR.tmp-PID-*`` and ``.DIR.old-PID-*`` beside DIR) are removed by the next one, but
only when they carry a marker, their process is gone, and all they hold is ours.

New folders are made with ``os.mkdir``, so their permissions follow the umask (as ``mkdir`` in a
shell), not ``tempfile.mkdtemp``'s fixed 0700.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

MARKER = ".comparisons-report"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


_TEMPORARY = re.compile(r"^\..+\.tmp-\d+-[0-9a-f]{8}$")  # .NAME.tmp-PID-RANDOM, made by _new_folder


class OutputFolderError(ValueError):
    """The output folder cannot be used; the message is one line naming the folder and why."""


# --- reading and writing the marker -------------------------------------------------------------

def read_marker(folder: Path) -> dict | None:
    """The marker of ``folder`` as a dict, or None when there is none (or it is not ours)."""
    path = Path(folder) / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(marker, dict) or not isinstance(marker.get("written_by"), str) or "files" not in marker:
        return None
    files = marker["files"]
    if files is None:  # a temporary folder: only under its own name pattern, with its process id
        return marker if _TEMPORARY.match(Path(folder).name) and isinstance(marker.get("pid"), int) else None
    if not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        return None
    return marker


def mark_as_written(folder: Path, written_by: str) -> None:
    """Write ``folder``'s marker listing everything in it (``name/`` for a folder), except what
    lies in sub-folders that carry a marker of their own."""
    folder = Path(folder)
    files = sorted(_listing(folder, ""))
    _write_marker(folder, {"written_by": written_by, "files": files})


def _listing(folder: Path, prefix: str) -> Iterator[str]:
    for entry in os.scandir(folder):
        rel = prefix + entry.name
        if rel == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            yield rel + "/"
            if read_marker(Path(entry.path)) is None:
                yield from _listing(Path(entry.path), rel + "/")
        else:
            yield rel


def _write_marker(folder: Path, marker: dict) -> None:
    (folder / MARKER).write_text(json.dumps(marker, ensure_ascii=False, separators=(",", ":")) + "\n",
                                 encoding="utf-8")


# --- what is ours ----------------------------------------------------------------------------------

def foreign_paths(folder: Path) -> Iterator[Path]:
    """Every path under ``folder`` that this project did not provably write, in a stable order
    (nothing when the folder is wholly ours). A path that is not a folder is foreign in itself."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        yield folder
        return
    marker = read_marker(folder)
    if marker is not None and marker["files"] is None:
        return  # a temporary folder being written: made empty by us, everything in it is ours
    known = set(marker["files"]) if marker is not None else set()
    yield from _foreign_below(folder, known, "")


def _foreign_below(folder: Path, known: set, prefix: str) -> Iterator[Path]:
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        rel = prefix + entry.name
        path = Path(entry.path)
        if rel == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            if read_marker(path) is not None:
                yield from foreign_paths(path)
            elif rel + "/" in known:
                yield from _foreign_below(path, known, rel + "/")
            else:
                yield path
        elif rel not in known:
            yield path


def _unwritable_folders(folder: Path) -> Iterator[Path]:
    """Folders under ``folder`` (itself included) whose entries this process may not remove."""
    for here, dirs, _files in os.walk(folder):
        if not os.access(here, os.W_OK | os.X_OK):
            yield Path(here)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(here, d))]


# --- checking DIR before anything is written ---------------------------------------------------------

def check_output_folder(out, option: str = "--out") -> Path:
    """Return ``out`` as an absolute path when a command may replace it; otherwise raise
    :class:`OutputFolderError` with a one-line reason. Creates and removes nothing."""
    if out is None or not str(out).strip():
        raise OutputFolderError(f"{option} must name a folder, got {str(out)!r}")
    given = Path(out)
    if given.is_symlink() and not given.exists():
        raise OutputFolderError(f"{option} {str(out)!r}: is a broken symbolic link; nothing was changed")
    target = given.resolve()
    shown = str(out) if str(out).isprintable() else repr(str(out))  # the reason stays one line

    def refuse(reason: str):
        raise OutputFolderError(f"{option} {shown}: {reason}; nothing was changed")

    cwd = Path.cwd().resolve()
    if target == cwd:
        refuse("is the current folder; give a new or empty folder for the output")
    if target in cwd.parents:
        refuse("holds the current folder; give a new or empty folder for the output")
    if target == PROJECT_ROOT or target in PROJECT_ROOT.parents:
        refuse(f"holds this project ({PROJECT_ROOT}); give a new or empty folder for the output")
    if target.exists() and not target.is_dir():
        refuse("is a file, not a folder")
    if target.is_dir():
        if os.path.ismount(target):
            refuse("is a mount point; give a folder inside it")
        foreign = next(foreign_paths(target), None)
        if foreign is not None:
            what = "folder" if foreign.is_dir() and not foreign.is_symlink() else "file"
            refuse(f"holds the {what} {foreign.relative_to(target)}, not written by this project "
                   "(only a new or empty folder, or an earlier output of this project, is replaced)")
        locked = next(_unwritable_folders(target), None)
        if locked is not None:
            refuse(f"the old output cannot be removed: {locked} is not writable")
    parent = _nearest_existing(target.parent)
    if not parent.is_dir():
        refuse(f"{parent} is a file, so no folder can be made under it")
    if not os.access(parent, os.W_OK | os.X_OK):
        refuse(f"the folder {parent} is not writable")
    return target


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# --- writing and swapping in ---------------------------------------------------------------------------

@contextmanager
def replacing(out, written_by: str, option: str = "--out") -> Iterator[Path]:
    """Check ``out``, then yield a new empty folder beside it to write into; when the block ends
    normally, mark that folder as written by ``written_by`` and put it in place of ``out``.

    Usage::

        with replacing(out, "python -m comparisons bench") as folder:
            (folder / "bench.md").write_text(...)

    Raises :class:`OutputFolderError` (before the block runs) when ``out`` may not be replaced.
    """
    target = check_output_folder(out, option)
    remove_leftovers(target)
    tmp = _new_temporary(target, written_by, option, out)
    try:
        yield tmp
        mark_as_written(tmp, written_by)
        _swap_in(tmp, target, option, out)
    finally:
        if tmp.exists():
            _remove_ours(tmp)


def _new_temporary(target: Path, written_by: str, option: str, out) -> Path:
    """The marked temporary folder beside ``target`` (its parents made first)."""
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _new_folder(target, "tmp")
        _write_marker(tmp, {"written_by": written_by, "files": None, "pid": os.getpid(),
                            "host": socket.gethostname()})
        return tmp
    except OSError as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)  # made empty by us a moment ago
        raise OutputFolderError(f"{option} {out}: cannot write beside it: {exc.strerror or exc}") from None


def _new_folder(target: Path, kind: str) -> Path:
    """A new, empty folder ``.NAME.KIND-PID-RANDOM`` beside ``target``, made with the umask."""
    while True:
        path = target.with_name(f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _swap_in(tmp: Path, target: Path, option: str, out) -> None:
    """Put ``tmp`` in place of ``target``. The old ``target`` is checked again (the run took a
    while), renamed aside, and removed only once the new folder is in place."""
    check_output_folder(target, option)  # what was added to DIR during the run is kept
    try:
        if not target.exists():
            tmp.rename(target)
            return
        if not any(target.iterdir()):
            target.rmdir()
            tmp.rename(target)
            return
        if read_marker(target) is None:  # ours (checked), e.g. a folder holding only bench/
            mark_as_written(target, "python -m comparisons (an earlier output, marked before removal)")
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        target.rename(old)
    except OSError as exc:
        raise OutputFolderError(f"{option} {out}: the new output could not be put in place: "
                                f"{exc.strerror or exc}") from None
    try:
        if next(foreign_paths(old), None) is not None:  # written between the check and the rename
            raise OutputFolderError(f"{option} {out}: something was written into it just now; nothing was changed")
        tmp.rename(target)
    except BaseException:
        old.rename(target)
        raise
    try:
        _remove_ours(old)
    except OSError as exc:  # still marked: the next run removes it
        warnings.warn(f"the old output {old} could not be removed ({exc}); the next run removes it", stacklevel=3)


def _remove_ours(folder: Path) -> None:
    """Remove a folder that is ours, its marker last: a removal cut short leaves a folder that is
    still marked, so the next run can still prove it ours and finish the job."""
    for entry in os.scandir(folder):
        if entry.name == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    marker = folder / MARKER
    if marker.exists():
        marker.unlink()
    folder.rmdir()


def leftovers(target: Path) -> list[Path]:
    """The temporary and old folders that killed commands left beside ``target`` and that are
    provably ours: the exact name pattern, a marker, a process that no longer runs, nothing foreign."""
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(tmp|old)-(\d+)-[0-9a-f]{{8}}$")
    found = []
    try:
        siblings = sorted(os.scandir(target.parent), key=lambda e: e.name)
    except OSError:
        return []
    for entry in siblings:
        match = pattern.match(entry.name)
        if not match or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        marker = read_marker(path)
        if marker is None or _still_running(int(match.group(2)), marker):
            continue
        if next(foreign_paths(path), None) is None:
            found.append(path)
    return found


def remove_leftovers(target: Path) -> None:
    for path in leftovers(target):
        try:
            _remove_ours(path)
        except OSError:
            pass  # e.g. removed by a command running beside this one; left for the next run


def _still_running(pid: int, marker: dict) -> bool:
    """Whether the command that made a folder may still be writing it (then it is left alone)."""
    if marker.get("host", socket.gethostname()) != socket.gethostname():
        return True
    if pid == os.getpid() or os.name != "posix":  # (on Windows, os.kill(pid, 0) would stop it)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
