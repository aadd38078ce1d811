"""The wall: scratch never imports torch; torch_ref never imports scratch."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


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
