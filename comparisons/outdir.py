"""Output folders that never cost a user a file: ``run --out``, ``bench --out`` and ``sweep --out``.

A command writes its output into a fresh temporary folder beside DIR and swaps it in only when
complete, so an interrupted command leaves the previous output as it was. DIR is replaced only
when everything in it is provably ours:

- every folder this project writes carries a marker file, ``.comparisons-report``: one line of
  JSON naming the command that wrote it, every file and folder it wrote (``files``) and the
  SHA-256 of each file's content as it was written (``sha256``);
- a folder is ours when each thing in it is listed by its marker, each file with the content it
  had when it was written, or is a sub-folder with a marker of its own that is ours in turn
  (``bench/`` inside a report). An empty folder is ours trivially;
- a temporary folder being written carries a marker with ``"files": null`` (all of it is ours).

Anything else (a file the user added to a report or edited in it, a folder without a marker, the
current folder, an ancestor of it or of the project, a file where a folder is expected) makes the
command stop with :class:`OutputFolderError` before anything is created or removed.

A marker written before the hashes were recorded (``files`` without ``sha256``) proves the names
only, not that the files are as they were written: its files cannot be proven unedited, so such a
folder is refused too (the message says so; delete the folder, after copying elsewhere whatever
you want to keep, and the next command writes it anew). The leftovers of a killed
command (``.DIR.tmp-PID-*`` and ``.DIR.old-PID-*`` beside DIR) are removed by the next one, but
only when they carry a marker, their process is gone, and all they hold is ours.

New folders are made with ``os.mkdir``, so their permissions follow the umask (as ``mkdir`` in a
shell), not ``tempfile.mkdtemp``'s fixed 0700.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

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
    hashes = marker.get("sha256")
    if hashes is not None and not (isinstance(hashes, dict) and all(isinstance(h, str) for h in hashes.values())):
        return None
    return marker


def mark_as_written(folder: Path, written_by: str) -> None:
    """Write ``folder``'s marker listing everything in it (``name/`` for a folder), except what
    lies in sub-folders that carry a marker of their own, with the SHA-256 of every file."""
    folder = Path(folder)
    files = sorted(_listing(folder, ""))
    hashes = {f: digest(folder / f) for f in files if (folder / f).is_file() and not (folder / f).is_symlink()}
    _write_marker(folder, {"written_by": written_by, "files": files, "sha256": hashes})


def digest(path: Path) -> str:
    """The SHA-256 of a file's content, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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

NOT_OURS = "not written by this project"
CHANGED = "changed since this project wrote it"
UNHASHED = "listed by a marker of an earlier version of this project that kept no content hashes"


def foreign_paths(folder: Path) -> Iterator[Path]:
    """Every path under ``folder`` that this project did not provably write, or that changed
    since, in a stable order (nothing when the folder is wholly ours)."""
    return (path for path, _why in problems(folder))


def problems(folder: Path) -> Iterator[tuple[Path, str]]:
    """(path, why) for every path under ``folder`` that is not provably this project's and
    unchanged: why is :data:`NOT_OURS`, :data:`CHANGED` or :data:`UNHASHED`. A path that is not a
    folder is not ours in itself."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        yield folder, NOT_OURS
        return
    marker = read_marker(folder)
    if marker is not None and marker["files"] is None:
        return  # a temporary folder being written: made empty by us, everything in it is ours
    yield from _problems_below(folder, marker, set(marker["files"]) if marker else set(), "")


def _problems_below(folder: Path, marker, known: set, prefix: str) -> Iterator[tuple[Path, str]]:
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        rel = prefix + entry.name
        path = Path(entry.path)
        if rel == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            if read_marker(path) is not None:
                yield from problems(path)
            elif rel + "/" in known:
                yield from _problems_below(path, marker, known, rel + "/")
            else:
                yield path, NOT_OURS
        else:
            why = _file_problem(path, rel, marker, known)
            if why:
                yield path, why


def _file_problem(path: Path, rel: str, marker, known: set) -> str | None:
    """Why the file ``path`` (``rel`` under the folder of ``marker``) is not provably ours and
    unchanged, or None when it is."""
    if rel not in known or path.is_symlink() or not path.is_file():
        return NOT_OURS
    hashes = marker.get("sha256") or {}
    if rel not in hashes:
        return UNHASHED
    return None if hashes[rel] == digest(path) else CHANGED


def explain(path: Path, why: str, folder: Path) -> str:
    """The reason ``path`` stops a command, for a one-line message."""
    try:
        shown = str(path.relative_to(folder))
    except ValueError:
        shown = str(path)
    if why == CHANGED:
        return (f"holds the file {shown}, {CHANGED} (to keep your edit, copy the file elsewhere; "
                "to let it go, delete the file)")
    if why == UNHASHED:
        return (f"holds the file {shown}, {UNHASHED}, so it cannot be proven unedited (copy elsewhere "
                "what you want to keep, then delete the folder)")
    what = "folder" if path.is_dir() and not path.is_symlink() else "file"
    return (f"holds the {what} {shown}, {NOT_OURS} (only a new or empty folder, or an earlier output of this "
            "project, is replaced)")


# --- writing single files into a folder of ours (the site's pages) ------------------------------------

def check_may_write(folder, relatives: Iterable[str], option: str = "--from") -> None:
    """Raise :class:`OutputFolderError` unless every ``folder/rel`` is new, or a file this project
    wrote there and nobody changed since (see :func:`problems`): then it may be overwritten."""
    folder = Path(folder)
    for rel in relatives:
        path = folder / rel
        if not os.path.lexists(path):
            continue
        owner, sub = _owner(folder, rel)
        marker = read_marker(owner)
        if marker is not None and marker["files"] is None:
            continue  # a temporary folder being written
        why = _file_problem(path, sub, marker or {}, set(marker["files"]) if marker else set())
        if why:
            raise OutputFolderError(f"{option} {shown_path(folder)}: {explain(path, why, folder)}; nothing was changed")


def record_written(folder, relatives: Iterable[str], written_by: str) -> None:
    """Add the files ``folder/rel`` just written (and the folders above them) to the marker that
    owns them, with their hashes, so that the next command can prove them ours. A folder without a
    marker gets one that lists only these files; a temporary folder being written needs none."""
    folder = Path(folder)
    by_owner: dict[Path, list[str]] = {}
    for rel in relatives:
        owner, sub = _owner(folder, rel)
        by_owner.setdefault(owner, []).append(sub)
    for owner, subs in by_owner.items():
        marker = read_marker(owner) or {"written_by": written_by, "files": [], "sha256": {}}
        if marker["files"] is None:
            continue
        files, hashes = set(marker["files"]), dict(marker.get("sha256") or {})
        for sub in subs:
            parts = sub.split("/")
            files.update("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
            files.add(sub)
            hashes[sub] = digest(owner / sub)
        _write_marker(owner, {**marker, "files": sorted(files), "sha256": hashes})


def _owner(folder: Path, rel: str) -> tuple[Path, str]:
    """The folder whose marker lists ``folder/rel`` (the deepest one with a marker of its own, as
    ``bench/`` inside a report) and the path relative to it."""
    parts = rel.split("/")
    for i in range(len(parts) - 1):
        below = folder.joinpath(*parts[:i + 1])
        if below.is_dir() and not below.is_symlink() and read_marker(below) is not None:
            return _owner(below, "/".join(parts[i + 1:]))
    return folder, rel


def shown_path(path) -> str:
    """A path for a one-line message: printable (else its repr), and at most ~1,000 characters."""
    text = str(path) if str(path).isprintable() else repr(str(path))
    return text if len(text) <= 1000 else f"{text[:480]}…{text[-480:]}"


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
    if "\0" in str(out):
        raise OutputFolderError(f"{option} {shown_path(out)}: a path cannot hold the character NUL; "
                                "nothing was changed")
    shown = shown_path(out)

    def refuse(reason: str):
        raise OutputFolderError(f"{option} {shown}: {reason}; nothing was changed")

    try:
        return _checked(Path(out), refuse)
    except RuntimeError:  # Path.resolve on a loop of symbolic links
        refuse("runs through a loop of symbolic links")
    except OSError as exc:  # a name too long, a folder that cannot be read, ...
        where = f" ({shown_path(exc.filename)})" if exc.filename and str(exc.filename) != str(out) else ""
        refuse(f"cannot be used: {exc.strerror or exc}{where}")


def _checked(given: Path, refuse) -> Path:
    name_max, path_max = _limits()
    longest = max(given.parts, key=lambda part: len(os.fsencode(part)), default="")
    if len(os.fsencode(longest)) > name_max:
        refuse(f"a name in it is too long for the file system ({len(os.fsencode(longest)):,} bytes; "
               f"at most {name_max})")
    if len(os.fsencode(str(given.absolute()))) >= path_max:
        refuse(f"the path is too long for the file system ({len(os.fsencode(str(given.absolute()))):,} bytes; "
               f"at most {path_max - 1:,})")
    if given.is_symlink() and not given.exists():
        refuse("is a broken symbolic link (or a loop of them)")
    target = given.resolve()
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
        if not os.access(target, os.R_OK | os.X_OK):
            refuse("cannot be read, so what it holds cannot be checked")
        found = next(problems(target), None)
        if found is not None:
            refuse(explain(*found, target))
        locked = next(_unwritable_folders(target), None)
        if locked is not None:
            refuse(f"the old output cannot be removed: {locked} is not writable")
    parent = _nearest_existing(target.parent)
    if not parent.is_dir():
        refuse(f"{parent} is a file, so no folder can be made under it")
    if not os.access(parent, os.W_OK | os.X_OK):
        refuse(f"the folder {shown_path(parent)} is not writable")
    _check_length(target, refuse)
    return target


def _check_length(target: Path, refuse) -> None:
    """The longest name written beside ``target`` (the temporary folder's) must fit the file system."""
    name_max, path_max = _limits()
    longest = f".{target.name}.tmp-{os.getpid()}-{'0' * 8}"
    if len(os.fsencode(longest)) > name_max:
        refuse(f"cannot write beside it: its name is too long for the file system ({len(os.fsencode(target.name))} "
               f"bytes; the temporary folder beside it needs {len(os.fsencode(longest))}, at most {name_max})")
    if len(os.fsencode(str(target.parent / longest))) >= path_max:
        refuse(f"cannot write beside it: the path is too long for the file system "
               f"({len(os.fsencode(str(target))):,} bytes, and the temporary folder beside it needs "
               f"{len(longest) - len(target.name)} more; at most {path_max - 1:,})")


def _limits() -> tuple[int, int]:
    """The file system's longest name and path in bytes (255 and 4,096 on Linux; the path counts
    its terminating NUL)."""
    try:
        return os.pathconf("/", "PC_NAME_MAX"), os.pathconf("/", "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        return 255, 4096


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

    Raises :class:`OutputFolderError` (before the block runs) when ``out`` may not be replaced,
    and when writing fails (a full disk, a folder removed meanwhile): then the old output is kept.
    """
    target = check_output_folder(out, option)
    remove_leftovers(target)
    tmp = _new_temporary(target, written_by, option, out)
    try:
        try:
            yield tmp
            mark_as_written(tmp, written_by)
        except OSError as exc:
            where = f" ({shown_path(exc.filename)})" if exc.filename else ""
            raise OutputFolderError(f"{option} {shown_path(out)}: writing the output failed: "
                                    f"{exc.strerror or exc}{where}; the old output was kept") from None
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
        raise OutputFolderError(f"{option} {shown_path(out)}: cannot write beside it: {exc.strerror or exc}") from None


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
        raise OutputFolderError(f"{option} {shown_path(out)}: the new output could not be put in place: "
                                f"{exc.strerror or exc}") from None
    try:
        if next(foreign_paths(old), None) is not None:  # written between the check and the rename
            raise OutputFolderError(f"{option} {shown_path(out)}: something was written into it just now; "
                                    "nothing was changed")
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
