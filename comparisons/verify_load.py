"""Loading the user's code for ``verify``: a .py file as ``python FILE.py`` would run it, a file
inside a package (``cs231n/classifiers/fc_net.py``, with its relative imports) as a module of
that package, or a dotted module; and ``MODULE:NAME`` targets.

Each load imports the file's own packages fresh and puts ``sys.modules`` and ``sys.path`` back
afterwards: both volumes of the book name their package ``common``, every CS231n assignment its
``cs231n``, and a notebook that verifies one file after another must judge each with its own."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from contextlib import contextmanager
from pathlib import Path

from .pairs import VerifyUsageError


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


def load_module(path_or_name: str):
    """Import a .py file (the current folder and the file's own folder importable, as ``python
    FILE.py`` would have them; a file inside a package as a module of it) or a dotted module."""
    path = Path(path_or_name)
    is_file = path_or_name.endswith(".py") or "/" in path_or_name or path.is_file()
    if is_file and not path.is_file():
        raise VerifyUsageError(f"no such file: {path}")
    try:
        if not is_file:
            with isolated_import([Path.cwd()]):
                return importlib.import_module(path_or_name)
        root, name = package_root(path)
        with isolated_import(list(dict.fromkeys([Path.cwd(), root, path.resolve().parent]))):
            if "." in name:
                return importlib.import_module(name)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
    except SystemExit as exc:
        raise VerifyUsageError(f"importing {path_or_name!r} called sys.exit({exc.code!r})") from None
    except Exception as exc:
        raise VerifyUsageError(f"cannot import {path_or_name!r}: {type(exc).__name__}: {exc}") from None


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
