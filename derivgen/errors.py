"""The errors derivgen raises.

Every problem derivgen can diagnose is a :class:`DerivgenError`. It carries
where the problem is (file, key path, line, column) so that the command line
can print it as one line::

    problems/x.toml:12:9: steps.A: unknown function 'softmx' (did you mean 'softmax'?)

The library never prints and never exits; only :mod:`derivgen.cli` turns these
errors into messages and exit codes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DerivgenError(Exception):
    """Base class: something derivgen refuses or cannot do, with its location."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.key = key
        self.line = line
        self.column = column

    def locate(self, *, file: str | None = None, key: str | None = None,
               line: int | None = None, column: int | None = None) -> "DerivgenError":
        """Fill in whatever part of the location is still unknown; return self."""
        self.file = self.file or file
        self.key = self.key or key
        self.line = self.line or line
        self.column = self.column or column
        return self

    def __reduce__(self):
        # keep file, key, line and column when the error crosses a process boundary (-j)
        return (_restore, (type(self), self.__dict__.copy()))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}"
                if self.column:
                    where += f":{self.column}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        return one_line(f"{where}{key}{self.message}")


def _restore(cls: type, state: dict) -> DerivgenError:
    error = cls.__new__(cls)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    return error


class ProblemError(DerivgenError):
    """The problem file is not a valid problem: TOML, encoding, keys, types, values."""


class ExprError(DerivgenError):
    """An expression is not in derivgen's expression language.

    ``offset`` is the 0-based character index in the expression text where the
    trouble starts; the problem loader turns it into a file column.
    """

    def __init__(self, message: str, *, offset: int | None = None, **location) -> None:
        super().__init__(message, **location)
        self.offset = offset


class ShapeError(ExprError):
    """An expression is well formed but its operands' shapes do not fit."""


class VerificationError(DerivgenError):
    """A stated formula or an ``[expect]`` claim failed its symbolic or numeric check."""


class OutputError(DerivgenError):
    """An output could not be written: a template failed, or pdflatex is missing or failed."""


class TemplateError(OutputError):
    """A report template is broken: a syntax error or an undefined name, with its line."""


def one_line(text: str) -> str:
    """``text`` with its control characters escaped (a newline as \\n): a message
    quoting a file name, key or value stays one line, and cannot forge a second one
    such as a CI annotation (``::error file=...::``)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A " (did you mean 'x'?)" suffix when one candidate is close to ``word``."""
    candidates = list(candidates)
    same_letters = [c for c in candidates if c.lower() == word.lower()]
    # a typo, not a different word that shares letters (max is not softmax)
    close = same_letters or [c for c in difflib.get_close_matches(word, candidates, n=3)
                             if abs(len(c) - len(word)) <= 2][:1]
    return f" (did you mean '{close[0]}'?)" if close else ""
