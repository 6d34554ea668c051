"""Problem files on disk: read once, only regular files (or standard input, ``-``),
with a size cap; and the names a problem's outputs and messages take from its path.

Problem files may come from strangers: a FIFO would block a build, a device never
end, and a file name can hold a newline or start with a dot.
"""

from __future__ import annotations

import os
import stat
import sys
import unicodedata
from pathlib import Path

from .errors import ProblemError

STDIN = "-"                        # the path that stands for standard input
MAX_FILE_BYTES = 1_000_000


def problem_name(path: str | Path) -> str:
    """The name a problem's outputs take: the file's stem, ``stdin`` for standard input."""
    return "stdin" if str(path) == STDIN else Path(path).stem


def breaks_lines(text: str) -> bool:
    """Whether ``text`` holds a control character or a line or paragraph separator:
    what a name or a title, meant to be one line, may not hold."""
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def unfit_name(name: str) -> str | None:
    """Why outputs may not be named ``name`` (a problem file's stem), or None: a dot
    would hide them (and .derivgen.json is the build's record), and a control
    character makes a file name that breaks lines and terminals."""
    if name.startswith("."):
        return "it starts with '.'"
    if breaks_lines(name):
        return "it holds a control character"
    return None


def display_name(path: str | Path) -> str:
    """How messages name a problem file."""
    return "<stdin>" if str(path) == STDIN else str(path)


def read_problem(path: str | Path) -> bytes:
    """The bytes of a problem file, or of standard input for ``-``: read once, only
    from a regular file (a FIFO or a device would block or never end) and at most
    ``MAX_FILE_BYTES`` of it."""
    file = display_name(path)
    try:
        if str(path) == STDIN:
            raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat refuses it
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with open(fd, "rb") as f:
                mode = os.fstat(fd).st_mode
                if stat.S_ISDIR(mode):
                    raise IsADirectoryError
                if not stat.S_ISREG(mode):
                    raise ProblemError("is not a regular file (for standard input, give -)",
                                       file=file)
                raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ProblemError("no such file", file=file) from None
    except IsADirectoryError:
        raise ProblemError("is a folder, not a problem file", file=file) from None
    except OSError as e:
        raise ProblemError(f"cannot read: {e.strerror}", file=file) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ProblemError(f"file is larger than {MAX_FILE_BYTES} bytes, the most a problem "
                           "file may be", file=file)
    return raw
