import shutil
from pathlib import Path

import pytest

REPORTS = Path(__file__).resolve().parents[2] / "reports"


@pytest.fixture(scope="session")
def committed_site(tmp_path_factory):
    """Both editions built from a copy of the committed report (results.json, tables, figures, the
    benchmark and the sweep of the full-length run): the pages a reader of the repository opens.
    Read it, never modify it (copy it first)."""
    if not (REPORTS / "results.json").is_file():
        pytest.skip("no committed report in reports/ (make report writes one)")
    from comparisons.site import build_site

    folder = tmp_path_factory.mktemp("committed") / "reports"
    shutil.copytree(REPORTS, folder, ignore=shutil.ignore_patterns("*.html", "style.css", "ko"))
    build_site(folder)
    return folder
