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
from .errors import DerivgenError, ProblemError
from .problem import display_name, load, problem_name, read_problem

__all__ = ["FORMATS", "Outcome", "build", "check", "derive_file", "display_name", "find_problems",
           "load", "render_outputs"]

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


def derive_file(path: str | Path, data: bytes | None = None):
    """Load, derive and verify one problem file (``data``: its bytes, when already read)."""
    from .derivation import derive          # sympy and numpy load here, not at start-up
    return derive(load(path, data))


def find_problems(paths: Iterable[str | Path]) -> list[Path]:
    """The problem files named by ``paths``: files as given (``-`` is standard input),
    folders as their ``*.toml`` files in sorted order."""
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
                outputs["pdf"] = pdf(tex)
    if "json" in formats:
        outputs["json"] = json.dumps(as_json(derivation), indent=2, ensure_ascii=False) + "\n"
    return outputs


def produce(path: Path, data: bytes, formats: tuple[str, ...], templates) -> tuple[dict, dict]:
    """Derive one problem and render its outputs: plain data, so that it can run in a
    worker process. Returns (outputs by suffix, summary)."""
    try:
        derivation = derive_file(path, data)
        outputs = render_outputs(derivation, formats, templates)
    except DerivgenError as error:
        raise error.locate(file=display_name(path))
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


def _missing_folders(paths: list[Path]) -> list[Outcome]:
    return [Outcome(p, "failed", error=ProblemError("folder holds no problem files (*.toml)",
                                                    file=str(p)))
            for p in paths if p.is_dir() and not any(p.glob("*.toml"))]


def _read(paths: list[Path]) -> Iterator[tuple[Path, bytes | None, Exception | None]]:
    """Each problem file's bytes, read once (standard input can be read only once),
    or why it cannot be read or built: two problems whose outputs would have the
    same name are both refused, since neither may silently replace the other."""
    by_name: dict[str, list[Path]] = {}
    for path in paths:
        by_name.setdefault(problem_name(path), []).append(path)
    for path in paths:
        others = [display_name(p) for p in by_name[problem_name(path)] if p != path]
        if others:
            yield path, None, ProblemError(
                f"its outputs would be named '{problem_name(path)}', as those of "
                f"{', '.join(others)}: rename one, or build them into different output "
                "folders (-o)", file=display_name(path))
            continue
        try:
            yield path, read_problem(path), None
        except DerivgenError as error:
            yield path, None, error


def _run(items: list[tuple[Path, bytes]], work: Callable,
         jobs: int) -> Iterator[tuple[Path, object, Exception | None]]:
    """``work(path, data)`` for every item, in ``jobs`` processes; results in the order
    of ``items``, so that a log reads the same however the work was shared out."""
    if jobs <= 1 or len(items) <= 1:
        for path, data in items:
            try:
                yield path, work(path, data), None
            except Exception as error:      # refused, or a bug: either way the rest go on
                yield path, None, error
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [(path, pool.submit(work, path, data)) for path, data in items]
        for path, future in futures:
            try:
                yield path, future.result(), None
            except Exception as error:
                yield path, None, error


class _Work:
    """A picklable ``produce`` with its options bound, for worker processes."""

    def __init__(self, formats, templates) -> None:
        self.formats, self.templates = formats, templates

    def __call__(self, path: Path, data: bytes):
        return produce(path, data, self.formats, self.templates)


def _targets(out_dir: Path, path: Path, formats: Iterable[str]) -> list[Path]:
    return [out_dir / f"{problem_name(path)}.{s}" for s in FORMATS if s in formats]


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
    for path, data, error in _read(find_problems(paths)):
        if error is not None:
            yield Outcome(path, "failed", error=error)
            continue
        # hashed as read, before building: a file edited meanwhile is rebuilt next time
        keys[path] = hashlib.sha256(settings + data).hexdigest()
        targets = _targets(out_dir, path, formats)
        if not force and manifest.get(problem_name(path)) == _record(keys[path], targets):
            yield Outcome(path, "unchanged", written=tuple(targets))
        else:
            todo.append((path, data))
    for path, result, error in _run(todo, _Work(formats, templates), jobs):
        if error is not None:
            yield Outcome(path, "failed", error=error)
            continue
        outputs, summary = result
        written = _targets(out_dir, path, outputs)
        for target in written:
            write_atomically(target, outputs[target.suffix[1:]])
        manifest[problem_name(path)] = _record(keys[path], written)
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
    current, or has missing or stale outputs, or fails verification. A PDF is
    current when it was compiled from the LaTeX a build would write now (it says
    which in its metadata), so checking needs no pdflatex."""
    from .render import compiled_from
    paths, out_dir, formats = list(map(Path, paths)), Path(out_dir), tuple(formats)
    yield from _missing_folders(paths)
    todo = []
    for path, data, error in _read(find_problems(paths)):
        if error is not None:
            yield Outcome(path, "failed", error=error)
        else:
            todo.append((path, data))
    rendered = tuple(f for f in formats if f != "pdf") + (("tex",) if "pdf" in formats else ())
    for path, result, error in _run(todo, _Work(rendered, templates), jobs):
        if error is not None:
            yield Outcome(path, "failed", error=error)
            continue
        outputs, summary = result
        missing, stale = [], []
        for target in _targets(out_dir, path, formats):
            if not target.is_file():
                missing.append(target)
            elif target.suffix == ".pdf":
                if not compiled_from(target.read_bytes(), outputs["tex"]):
                    stale.append(target)
            elif target.read_bytes() != outputs[target.suffix[1:]].encode("utf-8"):
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
