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
    error: Exception | None = None          # a DerivgenError, or a bug in derivgen
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


FORMATS = ("md", "tex", "json", "pdf")
DEFAULT_FORMATS = ("md", "tex", "json")


def render_outputs(derivation, formats=DEFAULT_FORMATS, templates=None) -> dict[str, str | bytes]:
    """The contents of each requested output, by file suffix."""
    from .derivation import as_json
    from .render import pdf, render
    from .report import context
    outputs: dict[str, str | bytes] = {}
    if {"md", "tex", "pdf"} & set(formats):
        ctx = context(derivation)
        if "md" in formats:
            outputs["md"] = render(ctx, "md", templates)
        if "tex" in formats or "pdf" in formats:
            tex = render(ctx, "tex", templates)
            if "tex" in formats:
                outputs["tex"] = tex
            if "pdf" in formats:
                outputs["pdf"] = pdf(tex, derivation.problem.name)
    if "json" in formats:
        outputs["json"] = json.dumps(as_json(derivation), indent=2, ensure_ascii=False) + "\n"
    return outputs


def build(paths: Iterable[str | Path], out_dir: str | Path = "output",
          formats: Iterable[str] = DEFAULT_FORMATS,
          templates: str | Path | None = None) -> list[Outcome]:
    """Derive every problem under ``paths`` and write its outputs into ``out_dir``.

    Every output of a problem is produced before any is written, so a problem
    that fails leaves nothing new behind.
    """
    paths, out_dir, formats = list(paths), Path(out_dir), tuple(formats)
    outcomes = []
    for path in map(Path, paths):
        if path.is_dir() and not any(path.glob("*.toml")):
            outcomes.append(Outcome(path, error=ProblemError(
                "folder holds no problem files (*.toml)", file=str(path))))
    for path in find_problems(paths):
        try:
            derivation = derive_file(path)
            outputs = render_outputs(derivation, formats, templates)
        except Exception as error:          # refused, or a bug: either way the rest go on
            outcomes.append(Outcome(path, error=error))
            continue
        written = []
        for suffix in FORMATS:
            if suffix in outputs:
                target = out_dir / f"{path.stem}.{suffix}"
                write_atomically(target, outputs[suffix])
                written.append(target)
        outcomes.append(Outcome(path, derivation, written=tuple(written)))
    return outcomes


def write_atomically(target: Path, content: str | bytes) -> None:
    """Write to a temporary file beside ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        data = content.encode("utf-8") if isinstance(content, str) else content
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)                # mkstemp makes it private; outputs are for reading
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
