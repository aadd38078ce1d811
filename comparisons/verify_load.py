"""Loading the user's code for ``verify``: a .py file as ``python FILE.py`` would run it, a file
inside a package (``cs231n/classifiers/fc_net.py``, with its relative imports) as a module of
that package, or a dotted module; and ``MODULE:NAME`` targets.

Each load imports the file's own packages fresh and puts ``sys.modules`` and ``sys.path`` back
afterwards: both volumes of the book name their package ``common``, every CS231n assignment its
``cs231n``, and a notebook that verifies one file after another must judge each with its own."""

from __future__ import annotations

import importlib
import importlib.util
import os
import stat
import sys
from contextlib import contextmanager
from pathlib import Path

from .pairs import TargetError, VerifyUsageError


def package_root(path: Path) -> tuple[Path, str]:
    """(the folder to put on ``sys.path``, the dotted module name) of a .py file: inside a package
    (folders with an ``__init__.py``) the folder above the top package and ``pkg.sub.mod``; else the
    file's own folder and a name of our own."""
    path = path.resolve()
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1:
        return path.parent, f"_verify_{path.stem}_{abs(hash(str(path)))}"
    return folder, ".".join(parts)


PROTECTED = {"numpy", "torch", "scratch", "torch_ref", "comparisons", "tests"}


def _local_names(folders) -> set:
    """The top-level module and package names the folders provide (``common``, ``cs231n``, ``ch04``…)."""
    names = set()
    for folder in folders:
        try:
            entries = list(Path(folder).iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.suffix == ".py":
                names.add(entry.stem)
            elif entry.is_dir() and entry.name.isidentifier():
                names.add(entry.name)
    return names


@contextmanager
def isolated_import(folders):
    """Run an import with ``folders`` first on ``sys.path`` and the modules they provide imported
    fresh; afterwards ``sys.path`` and those modules in ``sys.modules`` are as they were."""
    names = {n for n in _local_names(folders) if n not in PROTECTED and n not in sys.stdlib_module_names}

    def local(key):
        return key.partition(".")[0] in names and "site-packages" not in str(getattr(sys.modules.get(key), "__file__", ""))

    saved_path = list(sys.path)
    importlib.invalidate_caches()  # a finder kept for a relative entry (the book's os.pardir) must list the folder it is now
    before = {k: v for k, v in sys.modules.items() if local(k)}
    for k in before:
        del sys.modules[k]
    sys.path[:0] = [str(f) for f in folders if str(f) not in sys.path]
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for k in [k for k in sys.modules if local(k)]:
            del sys.modules[k]
        sys.modules.update(before)


def source_file(text: str) -> Path:
    """The .py file ``text`` names, readable: else a one-line usage error saying what is wrong with
    it (no such file, a folder, a name too long for the system, no permission to read it)."""
    from .outdir import shown_path

    path, shown = Path(text), shown_path(text)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise VerifyUsageError(f"no such file: {shown}") from None
    except NotADirectoryError:
        raise VerifyUsageError(f"no such file: {shown} (a part of the path is a file, not a folder)") from None
    except OSError as exc:  # a name too long, a folder that may not be searched
        raise VerifyUsageError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise VerifyUsageError(f"{shown} is a folder: give a .py file in it (verify FOLDER/FILE.py)")
    if not stat.S_ISREG(mode):
        raise VerifyUsageError(f"{shown} is not a regular file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise VerifyUsageError(f"cannot read {shown}: {exc.strerror or exc}") from None
    return path


def is_file_name(text: str) -> bool:
    """Whether ``text`` names a file (``x.py``, ``dir/x``, an existing file) rather than a dotted module."""
    return text.endswith(".py") or "/" in text or os.sep in text or os.path.isfile(text)


def load_module(path_or_name: str):
    """Import a .py file (the current folder and the file's own folder importable, as ``python
    FILE.py`` would have them; a file inside a package as a module of it) or a dotted module.

    A file that is not there, or a module that cannot be found, is a usage error; what the user's
    code does when it runs (raises, calls ``sys.exit``) is a :class:`TargetError`: its verdict."""
    shown = path_or_name if len(path_or_name) <= 200 else path_or_name[:200] + "…"
    try:
        if not is_file_name(path_or_name):
            with isolated_import([Path.cwd()]):
                return importlib.import_module(path_or_name)
        path = source_file(path_or_name)
        root, name = package_root(path)
        with isolated_import(list(dict.fromkeys([Path.cwd(), root, path.resolve().parent]))):
            if "." in name:
                return importlib.import_module(name)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
    except (VerifyUsageError, TargetError):
        raise
    except ModuleNotFoundError as exc:
        if not is_file_name(path_or_name) and exc.name and path_or_name.startswith(exc.name):
            raise VerifyUsageError(f"no module named {path_or_name!r} (a .py file, or a module importable from "
                                   f"{Path.cwd()})") from None
        raise TargetError(f"importing {shown!r} raised {_first_line(exc)} (run verify from the folder your "
                          "code's imports start from)") from None
    except SystemExit as exc:
        raise TargetError(f"importing {shown!r} called sys.exit({exc.code!r})") from None
    except KeyboardInterrupt:
        from .pairs import _base

        if not _base.IN_WORKER:
            raise
        raise TargetError(f"importing {shown!r} raised KeyboardInterrupt") from None
    except Exception as exc:
        raise TargetError(f"importing {shown!r} raised {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def split_target(spec: str) -> tuple[str, str]:
    """``module:name`` → (module, name); a usage error without the colon."""
    if ":" not in spec:
        raise VerifyUsageError(f"target must be MODULE:NAME (e.g. my_adam.py:Adam or mypkg.optim:Adam), got {spec!r}")
    module_part, _, name = spec.rpartition(":")
    return module_part, name


def load_target(spec: str):
    """``module:name`` (a dotted module or a path to a .py file) → the object. ``name`` may be a
    couple ``X_forward/X_backward`` (CS231n's functional layers; ``X`` alone names it too): the
    couple is returned as a tuple."""
    module_part, name = split_target(spec)
    module = load_module(module_part)
    return find(module, module_part, name)


def find(module, module_part: str, name: str):
    names = [n.strip() for n in name.replace(",", "/").split("/") if n.strip()]
    if len(names) == 2:
        return tuple(find(module, module_part, n) for n in names)
    if not hasattr(module, name) and hasattr(module, f"{name}_forward"):
        stem = name
        backward = next((f"{stem}_backward{s}" for s in ("", "_naive", "_fast") if hasattr(module, f"{stem}_backward{s}")),
                        None)
        if backward:
            return getattr(module, f"{stem}_forward"), getattr(module, backward)
    if not hasattr(module, name):
        public = sorted(k for k in vars(module) if not k.startswith("_"))
        raise VerifyUsageError(f"{module_part!r} has no attribute {name!r}; it defines {public}")
    return getattr(module, name)
