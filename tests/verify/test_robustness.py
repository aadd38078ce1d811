"""Nothing an object does stops the file: an object of another interface is skipped with the
interface its reference expects, a crash inside the driver is that object's ERROR, the others are
judged all the same; and code that computes in float32 is judged in float32, saying so."""

import json

from comparisons.cli import main
from comparisons.verify import format_file_result

from .files import PLANTED, inside, judged, one


def test_a_file_of_mixed_objects_is_judged_to_the_end():
    found, skipped = judged(PLANTED, "styles.py")
    assert "it has no forward and no backward method (its methods: fn, grad)" in skipped["ReLU"]  # numpy-ml's
    assert "expects a class with forward(x) -> y and backward(dout) -> dx" in skipped["ReLU"]
    assert "no backward method" in skipped["Sigmoid"]
    assert found["Affine"].verdict == "error" and "KeyError" in found["Affine"].error
    assert found["relu"].passed  # after the crash


def test_the_json_of_such_a_file_is_complete(capsys):
    with inside(PLANTED):
        assert main(["verify", "styles.py", "--json"]) == 1
    objects = {o["name"]: o for o in json.loads(capsys.readouterr().out)["objects"]}
    assert objects["ReLU"]["verdict"] == "skipped" and objects["Affine"]["verdict"] == "error"
    assert objects["Tanh"]["dtype"] == "float32"


def test_float32_code_is_judged_in_float32_and_said_so():
    result = one(PLANTED, "layer", "styles.py:Tanh", "tanh")
    assert result.passed and result.dtype == "float32"
    assert result.notes[0].startswith("your code computes in float32")
    assert "judged in float32" in result._repr_html_()
    found, _ = judged(PLANTED, "styles.py")
    assert "float32" in format_file_result_row(found["Tanh"])


def format_file_result_row(result):
    from comparisons.verify import FileResult

    return [line for line in format_file_result(FileResult("f.py", [result], [])).splitlines() if "Tanh" in line][0]


def test_an_explicit_float32_run_stays_float32():
    result = one(PLANTED, "layer", "styles.py:Tanh", "tanh", dtype="float32")
    assert result.passed and result.dtype == "float32" and not result.notes
