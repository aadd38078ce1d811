"""The user's code runs in a worker process (``verify``): a child forked from this process once
torch and the pairs are imported, so that it starts in milliseconds. Whatever the code does there
(loop forever, ``os._exit``, crash in native code, raise ``KeyboardInterrupt``, print megabytes)
costs the object being judged an ERROR verdict, and nothing else:

* the child sends its results back through a pipe (length-prefixed pickles), one message at a
  time; this process waits for each with a deadline and, past it, kills the child's process group;
* a child that ends without its message is reported with how it ended (an exit status, a signal);
* the child's standard output is its standard error (the user's prints never reach ``--json``),
  its standard input is empty, and it ignores the terminal's Ctrl-C (this process, which gets it,
  ends the child).

Forking is used where the platform offers it (Linux); elsewhere :func:`available` is false and
``verify`` judges in its own process, as before, with a ``SIGALRM`` time limit where there is one.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import select
import signal
import struct
import sys
import time

HEADER = struct.Struct("<Q")


class Lost(Exception):
    """The worker ran past its time limit, or ended without sending what was awaited: the message
    says which, and how (``… ran past the time limit of 5 s``, ``… exit status 3``)."""


def available() -> bool:
    """Whether the code under test can run in a forked worker (Linux; macOS forbids forking a
    process that has started its frameworks' threads, as torch does)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def check_timeout(timeout) -> float | None:
    """``timeout``: seconds, a positive finite number, or None (no limit; the Python API only)."""
    if timeout is None:
        return None
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(timeout, bool) or not (value > 0 and value != float("inf")):
        from .pairs import VerifyUsageError

        raise VerifyUsageError(f"--timeout must be a positive finite number of seconds, got {timeout!r}")
    return value


class Sender:
    """The child's end of the pipe: ``send(message)`` writes one pickled message."""

    def __init__(self, fd: int):
        self.fd = fd

    def __call__(self, message) -> None:
        try:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 -- something in the result cannot travel: say so instead
            data = pickle.dumps(("unpicklable", f"{type(exc).__name__}: {exc}"))
        view = memoryview(HEADER.pack(len(data)) + data)
        while view:
            view = view[os.write(self.fd, view):]


def _child_setup() -> None:
    """Run in the child right after the fork: its own process group (this process ends the whole
    group; the terminal's Ctrl-C reaches only this process), killed with its parent, prints to
    standard error, nothing to read, no fault dump."""
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGALRM", "SIGCHLD"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    _die_with_parent()
    if faulthandler.is_enabled():
        faulthandler.disable()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    stream = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stdout = sys.stderr = stream
    sys.stdin = open(os.devnull, encoding="utf-8")
    from .pairs import _base

    _base.IN_WORKER = True


def _die_with_parent() -> None:
    """Linux's PR_SET_PDEATHSIG: the child is killed if this process dies first (best effort)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


class Worker:
    """A forked child running ``main(send)``; this process reads its messages with :meth:`receive`."""

    def __init__(self, main):
        for stream in (sys.stdout, sys.stderr):  # what is buffered here must not be written twice
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0
            try:
                os.close(read_fd)
                _child_setup()
                main(Sender(write_fd))
            except BaseException:  # noqa: BLE001 -- main reports what it can; nothing may escape a child
                code = 70
            finally:
                os._exit(code)
        os.close(write_fd)
        try:
            os.setpgid(pid, pid)  # also here: whichever of the two runs first
        except OSError:
            pass
        self.pid, self.fd, self.buffer, self.eof, self.status = pid, read_fd, bytearray(), False, None

    def _message(self):
        if len(self.buffer) < HEADER.size:
            return None
        (size,) = HEADER.unpack_from(self.buffer)
        if len(self.buffer) < HEADER.size + size:
            return None
        data = bytes(self.buffer[HEADER.size:HEADER.size + size])
        del self.buffer[:HEADER.size + size]
        return pickle.loads(data)

    def receive(self, timeout: float | None, what: str):
        """The next message; :class:`Lost` (the child killed first) when none comes within
        ``timeout`` seconds (None: no limit), or when the child ends without sending it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            message = self._message()
            if message is not None:
                return message
            if self.eof:
                raise Lost(f"{what} {self._ended()}")
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                self.kill()
                raise Lost(f"{what} ran past the time limit of {timeout:g} s")
            ready, _, _ = select.select([self.fd], [], [], wait)
            if ready:
                chunk = os.read(self.fd, 1 << 20)
                if chunk:
                    self.buffer += chunk
                else:
                    self.eof = True

    def _ended(self) -> str:
        """How the child ended, in words (it closed the pipe without the message awaited)."""
        status = self._wait(patience=2.0)
        if status is None:
            self.kill()
            return "closed its connection to verify and went on running (it was ended)"
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            why = signal.strsignal(number) or name
            return f"crashed the process running it: {name} ({why.lower()})"
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        return f"ended the process running it with exit status {code} (os._exit({code}) or a crash in native code?)"

    def _wait(self, patience: float | None = None):
        """The child's wait status once it has ended; with ``patience`` seconds, None if it has not
        ended by then."""
        deadline = None if patience is None else time.monotonic() + patience
        while self.status is None:
            try:
                pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            except ChildProcessError:
                return None
            if pid:
                self.status = status
            elif time.monotonic() > deadline:
                return None
            else:
                time.sleep(0.01)
        return self.status

    def kill(self) -> None:
        """End the child and everything it started (its process group), and reap it."""
        if self.status is None:
            for kill in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
                try:
                    kill()
                    break
                except (ProcessLookupError, PermissionError, OSError):
                    continue
            self._wait()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False
