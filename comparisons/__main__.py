import os
import sys

from .cli import main


def _main() -> int:
    """``main()``, stopping quietly when the reader of stdout goes away (``... list | head``), as a
    Unix tool does: the rest of the output is dropped, not reported as a BrokenPipeError."""
    try:
        status = main()
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 1


sys.exit(_main())
