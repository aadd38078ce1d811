"""``python -m comparisons.site [--from] FOLDER``: rebuild the study guide's pages, both editions
(English, and Korean under ``ko/``), from a report folder's results.json, tables and figures,
without running anything (exit 2 with a one-line reason when the folder holds no report, or when a
page came out broken)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import SiteError, build_site


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m comparisons.site",
                                     description="Rebuild the study guide's HTML pages from a report folder.")
    parser.add_argument("folder", nargs="?", help="the report folder (default reports/)")
    parser.add_argument("--from", dest="source", help="the report folder (the same as FOLDER)")
    args = parser.parse_args(argv)
    folder = args.source or args.folder or "reports"
    start = time.perf_counter()
    try:
        pages = build_site(folder)
    except SiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(pages)} pages written into {folder} in {time.perf_counter() - start:.1f} s "
          f"(open {Path(folder) / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
