"""What one problem may cost: time and memory.

Problem files may come from strangers, and a file within every documented limit
can still ask sympy for hours of work (sixteen chained tanh steps, a determinant
at the largest sizes). Every build therefore runs each problem under a time
limit and a memory limit (of the worker process, or of the command's own process
when it builds one problem at a time); a problem that exceeds one is refused
with a clear message and the rest of a batch goes on.

The time limit is an interval timer (SIGALRM): sympy is pure Python, so the
signal lands between bytecodes within milliseconds, and pdflatex, a child
process, is killed with the exception. Where there is no such timer (not the
main thread, or no SIGALRM) the problem runs unlimited.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ProblemError

DEFAULT_TIME_LIMIT = 120.0          # seconds for one problem: derive, verify, render
DEFAULT_MEMORY_LIMIT = 4 << 30      # bytes of address space for a worker process
_AGAIN = 1.0                        # seconds between the timer's signals past the limit


class _OutOfTime(BaseException):
    """Raised by the timer. A BaseException, so that no ``except Exception`` inside
    sympy or numpy swallows it."""


def _raise_out_of_time(signum, frame):
    raise _OutOfTime


@contextmanager
def time_limit(seconds: float | None, file: str) -> Iterator[None]:
    """Run the body for at most ``seconds``; past that, a ProblemError for ``file``."""
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_out_of_time)
    # and again every second: a raise that lands in a gc callback or a __del__ is
    # swallowed there (Python prints "Exception ignored in ..."), and the next one ends it
    signal.setitimer(signal.ITIMER_REAL, seconds, _AGAIN)
    try:
        yield
    except _OutOfTime:
        signal.setitimer(signal.ITIMER_REAL, 0)
        raise ProblemError(f"took longer than {seconds:g} s, the time limit of one problem: "
                           "make its [dims] or [check] sizes smaller, split it, or raise "
                           "--time-limit", file=file) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def out_of_memory(limit: int | None, file: str) -> ProblemError:
    """The error for a problem whose derivation ran out of memory."""
    size = f" ({limit / (1 << 30):g} GiB, --memory-limit)" if limit else ""
    return ProblemError(f"ran out of memory{size}: make its [dims] sizes smaller or split it",
                        file=file)


def limit_memory(memory: int | None) -> None:
    """Cap this process's address space at ``memory`` bytes: past it, allocations
    fail with MemoryError, which becomes a clear refusal, instead of the machine
    swapping or the kernel killing the build."""
    if not memory:
        return
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or memory < hard:
        resource.setrlimit(resource.RLIMIT_AS, (memory, hard))


def limit_worker(memory: int | None, parent: int) -> None:
    """Set up a worker process: its memory capped, and killed with its parent (process
    ``parent``; Linux), so that a killed build leaves no worker behind."""
    limit_memory(memory)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)               # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return                                      # not Linux: workers end with their queue
    if os.getppid() != parent:                       # it died before prctl took effect
        os._exit(1)
