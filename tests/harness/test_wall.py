"""The wall: scratch never imports torch; torch_ref never imports scratch."""

import ast
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_importing_scratch_loads_no_torch():
    code = "import sys, scratch, scratch.activations, scratch.layers; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_importing_torch_ref_loads_no_scratch():
    code = "import sys, torch_ref; print(any(m == 'scratch' or m.startswith('scratch.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_no_forbidden_import_statements():
    pattern = {"scratch": re.compile(r"^\s*(import|from)\s+(torch|torch_ref|comparisons)\b", re.M),
               "torch_ref": re.compile(r"^\s*(import|from)\s+(scratch|comparisons)\b", re.M)}
    for package, rx in pattern.items():
        for path in (ROOT / package).rglob("*.py"):
            assert not rx.search(path.read_text()), f"{path} crosses the wall"


def _torch_modules_built(tree) -> list[str]:
    """Calls ``nn.X(…)`` / ``torch.nn.X(…)`` (X a class: capitalised) and classes deriving from
    ``nn.Module`` in a parsed module."""
    def dotted(node):
        return dotted(node.value) + "." + node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "?")

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = dotted(node.func)
            if re.fullmatch(r"(torch\.)?nn\.[A-Z]\w*", name):
                found.append(name)
        if isinstance(node, ast.ClassDef) and any(re.fullmatch(r"(torch\.)?nn\.Module", dotted(b)) for b in node.bases):
            found.append(f"class {node.name}(nn.Module)")
    return found


def test_every_torch_module_a_comparison_uses_is_built_in_torch_ref():
    """comparisons/ builds no torch module or loss of its own (``nn.Linear(…)``,
    ``torch.nn.CrossEntropyLoss()``, a ``class …(nn.Module)``): each lives in torch_ref, with a
    docstring, so the PyTorch side a learner reads is the one that ran."""
    for path in (ROOT / "comparisons").rglob("*.py"):
        hits = _torch_modules_built(ast.parse(path.read_text()))
        assert not hits, f"{path.relative_to(ROOT)} builds torch modules itself: {hits[:5]}"
