"""The library API: what the command line (and any other program) calls.

``derive_file`` turns one problem file into a verified
:class:`~derivgen.derivation.Derivation`. ``build`` does that for files and
folders and writes each result beside the others in the output folder; one
refused or failing problem never stops the rest, and a file is written
whole or not at all.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import DerivgenError, ProblemError
from .problem import load

__all__ = ["Outcome", "build", "derive_file", "find_problems", "load"]


@dataclass(frozen=True)
class Outcome:
    """What became of one problem file."""
    path: Path
    derivation: object | None = None       # a derivgen.derivation.Derivation
    error: DerivgenError | None = None
    written: tuple[Path, ...] = ()


def derive_file(path: str | Path):
    """Load, derive and verify one problem file."""
    from .derivation import derive          # sympy and numpy load here, not at start-up
    return derive(load(path))


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
    """Derive every problem under ``paths`` and write ``NAME.json`` into ``out_dir``."""
    from .derivation import as_json
    paths, out_dir = list(paths), Path(out_dir)
    outcomes = []
    for path in map(Path, paths):
        if path.is_dir() and not any(path.glob("*.toml")):
            outcomes.append(Outcome(path, error=ProblemError(
                "folder holds no problem files (*.toml)", file=str(path))))
    for path in find_problems(paths):
        try:
            derivation = derive_file(path)
        except DerivgenError as error:
            outcomes.append(Outcome(path, error=error))
            continue
        target = out_dir / f"{path.stem}.json"
        write_atomically(target, json.dumps(as_json(derivation), indent=2, ensure_ascii=False) + "\n")
        outcomes.append(Outcome(path, derivation, written=(target,)))
    return outcomes


def write_atomically(target: Path, text: str) -> None:
    """Write to a temporary file beside ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)                # mkstemp makes it private; outputs are for reading
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
