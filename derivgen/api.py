"""The library API: what the command line (and any other program) calls.

``derive_file`` turns one problem file into a verified
:class:`~derivgen.derivation.Derivation`. ``build`` does that for files and
folders, in several processes if asked, and writes each problem's outputs
into the output folder; ``check`` derives in memory and compares with what is
there. A problem is rebuilt only when its file, the templates, the formats or
derivgen's version changed (a hash of them is kept in ``.derivgen.json`` in
the output folder). One refused or failing problem never stops the rest, and
every file is written whole, through a temporary file and a rename, or not at
all.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import ProblemError
from .problem import load

__all__ = ["FORMATS", "Outcome", "build", "check", "derive_file", "find_problems", "load",
           "render_outputs"]

FORMATS = ("md", "tex", "json", "pdf")
DEFAULT_FORMATS = ("md", "tex", "json")
MANIFEST = ".derivgen.json"


@dataclass(frozen=True)
class Outcome:
    """What became of one problem file."""
    path: Path
    status: str                               # "built", "unchanged", "failed" (build);
                                              # "current", "missing", "stale", "failed" (check)
    summary: dict = field(default_factory=dict)     # gradients, matrix forms, claims
    error: Exception | None = None          # a DerivgenError, or a bug in derivgen
    written: tuple[Path, ...] = ()
    differs: tuple[Path, ...] = ()          # check: the outputs that are missing or stale


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


def produce(path: Path, formats: tuple[str, ...], templates) -> tuple[dict, dict]:
    """Derive one problem and render its outputs: plain data, so that it can run in a
    worker process. Returns (outputs by suffix, summary)."""
    derivation = derive_file(path)
    outputs = render_outputs(derivation, formats, templates)
    summary = {"gradients": len(derivation.gradients),
               "matrix_forms": sum(g.matrix_form for g in derivation.gradients.values()),
               "claims": len(derivation.claims)}
    return outputs, summary


def settings_hash(formats: tuple[str, ...], templates) -> bytes:
    """What every problem's outputs depend on: derivgen's version, the formats and the
    templates (read once per build, not once per problem)."""
    from .render import search_path
    digest = hashlib.sha256(f"{__version__}\n{','.join(formats)}\n".encode())
    for folder in search_path(templates):
        for template in sorted(folder.glob("*.j2")):
            digest.update(template.name.encode() + b"\0" + template.read_bytes())
    return digest.digest()


def inputs_hash(path: Path, settings: bytes) -> str:
    """What one problem's outputs depend on: its file and the build's settings."""
    return hashlib.sha256(settings + path.read_bytes()).hexdigest()


def _missing_folders(paths: list[Path]) -> list[Outcome]:
    return [Outcome(p, "failed", error=ProblemError("folder holds no problem files (*.toml)",
                                                    file=str(p)))
            for p in paths if p.is_dir() and not any(p.glob("*.toml"))]


def _run(paths: list[Path], work: Callable,
         jobs: int) -> Iterator[tuple[Path, object, Exception | None]]:
    """``work(path)`` for every path, in ``jobs`` processes; results in the order of
    ``paths``, so that a log reads the same however the work was shared out."""
    if jobs <= 1 or len(paths) <= 1:
        for path in paths:
            try:
                yield path, work(path), None
            except Exception as error:      # refused, or a bug: either way the rest go on
                yield path, None, error
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [(path, pool.submit(work, path)) for path in paths]
        for path, future in futures:
            try:
                yield path, future.result(), None
            except Exception as error:
                yield path, None, error


class _Work:
    """A picklable ``produce`` with its options bound, for worker processes."""

    def __init__(self, formats, templates) -> None:
        self.formats, self.templates = formats, templates

    def __call__(self, path: Path):
        return produce(path, self.formats, self.templates)


def build_iter(paths: Iterable[str | Path], out_dir: str | Path = "output",
               formats: Iterable[str] = DEFAULT_FORMATS, templates: str | Path | None = None,
               jobs: int = 1, force: bool = False) -> Iterator[Outcome]:
    """Build every problem under ``paths`` into ``out_dir``; outcomes as they finish."""
    paths, out_dir, formats = list(map(Path, paths)), Path(out_dir), tuple(formats)
    yield from _missing_folders(paths)
    _remove_stale_temporaries(out_dir)
    manifest = _read_manifest(out_dir)
    settings = settings_hash(formats, templates)
    todo, keys = [], {}
    for path in find_problems(paths):
        targets = [out_dir / f"{path.stem}.{s}" for s in FORMATS if s in formats]
        try:
            # hashed before building: a file edited meanwhile is rebuilt next time
            keys[path] = inputs_hash(path, settings)
        except OSError:
            keys[path] = None               # unreadable: let the build say why
        if not force and keys[path] and manifest.get(path.stem) == _record(keys[path], targets):
            yield Outcome(path, "unchanged", written=tuple(targets))
        else:
            todo.append(path)
    for path, result, error in _run(todo, _Work(formats, templates), jobs):
        if error is not None:
            yield Outcome(path, "failed", error=error)
            continue
        outputs, summary = result
        written = []
        for suffix in FORMATS:
            if suffix in outputs:
                target = out_dir / f"{path.stem}.{suffix}"
                write_atomically(target, outputs[suffix])
                written.append(target)
        manifest[path.stem] = _record(keys[path], written)
        write_atomically(out_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        yield Outcome(path, "built", summary, written=tuple(written))


def build(paths: Iterable[str | Path], out_dir: str | Path = "output",
          formats: Iterable[str] = DEFAULT_FORMATS, templates: str | Path | None = None,
          jobs: int = 1, force: bool = False) -> list[Outcome]:
    """:func:`build_iter`, collected."""
    return list(build_iter(paths, out_dir, formats, templates, jobs, force))


def check_iter(paths: Iterable[str | Path], out_dir: str | Path = "output",
               formats: Iterable[str] = DEFAULT_FORMATS, templates: str | Path | None = None,
               jobs: int = 1) -> Iterator[Outcome]:
    """Derive in memory and compare with the outputs in ``out_dir``: each problem is
    current, or has missing or stale outputs, or fails verification."""
    paths, out_dir, formats = list(map(Path, paths)), Path(out_dir), tuple(formats)
    yield from _missing_folders(paths)
    for path, result, error in _run(find_problems(paths), _Work(formats, templates), jobs):
        if error is not None:
            yield Outcome(path, "failed", error=error)
            continue
        outputs, summary = result
        missing, stale = [], []
        for suffix, content in outputs.items():
            target = out_dir / f"{path.stem}.{suffix}"
            data = content.encode("utf-8") if isinstance(content, str) else content
            if not target.is_file():
                missing.append(target)
            elif suffix != "pdf" and target.read_bytes() != data:   # PDFs carry dates
                stale.append(target)
        status = "missing" if missing else "stale" if stale else "current"
        yield Outcome(path, status, summary, differs=tuple(missing + stale))


def check(paths: Iterable[str | Path], out_dir: str | Path = "output",
          formats: Iterable[str] = DEFAULT_FORMATS, templates: str | Path | None = None,
          jobs: int = 1) -> list[Outcome]:
    """:func:`check_iter`, collected."""
    return list(check_iter(paths, out_dir, formats, templates, jobs))


def _record(inputs: str, outputs: list[Path]) -> dict:
    """A problem's entry in the manifest: the hash of its inputs and of each output as
    written, so that a changed input or a hand-edited or deleted output rebuilds it."""
    return {"inputs": inputs, "outputs": {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        for p in outputs}}


def _read_manifest(out_dir: Path) -> dict[str, dict]:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Temporary files left by a build that was killed outright (SIGKILL)."""
    if out_dir.is_dir():
        for leftover in out_dir.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)


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
