"""The library API: what the command line (and any other program) calls.

``build`` takes problem files or folders and reports, for each file, either
the loaded problem or the :class:`~derivgen.errors.DerivgenError` that refused
it; one refused file never stops the others. Until the derivation engine
exists it validates only and writes nothing: derivgen never writes a
derivation it has not derived and verified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import DerivgenError, ProblemError
from .problem import Problem, load

__all__ = ["Outcome", "build", "find_problems", "load"]


@dataclass(frozen=True)
class Outcome:
    """What became of one problem file."""
    path: Path
    problem: Problem | None = None
    error: DerivgenError | None = None
    written: tuple[Path, ...] = ()


def find_problems(paths: Iterable[str | Path]) -> list[Path]:
    """The problem files named by ``paths``: files as given, folders as their
    ``*.toml`` files in sorted order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.glob("*.toml")))
        else:
            found.append(path)
    return found


def build(paths: Iterable[str | Path], out_dir: str | Path = "output") -> list[Outcome]:
    """Load and check every problem file under ``paths``; one outcome per file.

    ``out_dir`` is where the derivations will be written once the engine
    lands; nothing is written yet.
    """
    paths = list(paths)
    outcomes = []
    for path in map(Path, paths):
        if path.is_dir() and not any(path.glob("*.toml")):
            outcomes.append(Outcome(path, error=ProblemError(
                "folder holds no problem files (*.toml)", file=str(path))))
    for path in find_problems(paths):
        try:
            outcomes.append(Outcome(path, problem=load(path)))
        except DerivgenError as error:
            outcomes.append(Outcome(path, error=error))
    return outcomes
