"""The library API: what the command line (and any other program) calls.

``derive_file`` turns one problem file into a verified
:class:`~derivgen.derivation.Derivation`. ``build`` does that for files and
folders, in several processes if asked, and writes each problem's outputs
into the output folder; ``check`` derives in memory and compares with what is
there. How is one :class:`Options` object, from the command line to each worker.
A problem is rebuilt only when its file, the templates, the formats or
derivgen's version changed (a hash of them is kept in ``.derivgen.json`` in
the output folder). One refused, failing or over-budget problem never stops the
rest; each problem's outputs are written as soon as it is done, each file whole,
through a temporary file and a rename, or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib import import_module
from pathlib import Path

from . import __version__
from .budget import (DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT, limit_worker, out_of_memory,
                     time_limit)
from .errors import DerivgenError, OutputError, ProblemError
from .problem import load
from .sources import display_name, problem_name, read_problem, unfit_name

__all__ = ["FORMATS", "Options", "Outcome", "build", "check", "derive_file", "display_name",
           "find_problems", "load", "render_outputs"]

FORMATS = ("md", "tex", "json", "pdf", "html", "py", "torch")
HANDOUT_FORMATS = ("md", "tex", "pdf", "html")           # derivgen handout
# how each format's file is named after its problem: softmax.md, but softmax_torch.py,
# which Python runs and imports as the NumPy module softmax.py is
SUFFIXES = {**{f: f".{f}" for f in FORMATS}, "torch": "_torch.py"}
DEFAULT_FORMATS = ("md", "tex", "json")
MANIFEST = ".derivgen.json"


@dataclass(frozen=True)
class Options:
    """How to build or check: where, which formats, with which templates, in how
    many processes, and each problem's budget."""
    out_dir: Path = Path("output")
    formats: tuple[str, ...] = DEFAULT_FORMATS
    templates: Path | None = None            # searched before ./templates and derivgen's own
    jobs: int = 1                            # problems at once, each in a worker process if > 1
    force: bool = False                      # build: rebuild even what is unchanged
    time_limit: float | None = DEFAULT_TIME_LIMIT       # seconds per problem
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT     # bytes per worker process
    katex: Path | None = None                # inlined into HTML pages; else a pinned CDN

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        object.__setattr__(self, "formats", tuple(self.formats))
        if self.katex is not None:
            object.__setattr__(self, "katex", Path(self.katex))


def _options(options: Options | None, settings: dict) -> Options:
    return replace(options or Options(), **settings)


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


def render_outputs(derivation, options: Options | None = None,
                   **settings) -> dict[str, str | bytes]:
    """The contents of each output ``options.formats`` asks for, by format
    (``settings`` replace fields of ``options``: ``formats=("md",)``)."""
    from .derivation import as_json
    from .render import page, pdf, render
    from .report import context
    options = _options(options, settings)
    formats, templates = options.formats, options.templates
    outputs: dict[str, str | bytes] = {}
    if {"md", "tex", "pdf", "html"} & set(formats):
        ctx = context(derivation)
        if "md" in formats or "html" in formats:
            markdown = render(ctx, "md", templates)
            if "md" in formats:
                outputs["md"] = markdown
            if "html" in formats:
                outputs["html"] = page(markdown, ctx["title"], options.katex, templates)
        if "tex" in formats or "pdf" in formats:
            tex = render(ctx, "tex", templates)
            if "tex" in formats:
                outputs["tex"] = tex
            if "pdf" in formats:
                outputs["pdf"] = pdf(tex)
    if "json" in formats:
        outputs["json"] = json.dumps(as_json(derivation), indent=2, ensure_ascii=False) + "\n"
    for module in ("py", "torch"):
        if module in formats:
            from .module import module_source
            outputs[module] = module_source(derivation, module)
    return outputs


@contextmanager
def within_limits(file: str, seconds: float | None,
                  memory: int | None = None) -> Iterator[None]:
    """One problem's work within its time limit (``seconds``), its failures as one clear
    error naming ``file``; ``memory``: the worker's memory limit, which a message names."""
    # imported before the clock starts: an import cut short by the time limit would
    # leave sympy half-loaded for the problems after this one
    for module in ("derivation", "render", "report"):
        import_module(f".{module}", __package__)
    try:
        with time_limit(seconds, file):
            yield
    except DerivgenError as error:
        raise error.locate(file=file)
    except MemoryError:
        raise out_of_memory(memory, file) from None
    except RecursionError:
        raise ProblemError("nested too deeply for derivgen: split its steps", file=file) from None


def produce(path: Path, data: bytes, options: Options) -> tuple[dict, dict]:
    """Derive one problem and render its outputs, within its time limit: plain data,
    so that it can run in a worker process. Returns (outputs by suffix, summary)."""
    with within_limits(display_name(path), options.time_limit,
                       options.memory_limit if options.jobs > 1 else None):
        derivation = derive_file(path, data)
        outputs = render_outputs(derivation, options)
    summary = {"gradients": len(derivation.gradients),
               "matrix_forms": sum(g.matrix_form for g in derivation.gradients.values()),
               "claims": len(derivation.claims)}
    for key in ("jacobians", "hessians"):
        maps = getattr(derivation, key)
        summary[key] = len(maps)
        summary[key + "_matrices"] = sum(lm.matrix is not None for lm in maps.values())
    return outputs, summary


def settings_hash(options: Options) -> bytes:
    """What every problem's outputs depend on: derivgen's version, the formats, the
    templates (read once per build, not once per problem) and the KaTeX pages inline."""
    digest = hashlib.sha256(f"{__version__}\n{','.join(options.formats)}\n".encode())
    if options.katex and "html" in options.formats:
        digest.update(f"katex {options.katex.resolve()}\n".encode())
    for template in template_files(options.templates):
        digest.update(template.name.encode() + b"\0" + template.read_bytes())
    return digest.digest()


def template_files(templates: str | Path | None) -> list[Path]:
    """Every template file a build may read, in search order (``templates``: the user's
    folder, searched first)."""
    from .render import search_path
    return [template for folder in search_path(templates)
            for template in sorted(folder.glob("*.j2"))
            if template.is_file()]              # a folder named x.j2 is no template


def _missing_folders(paths: list[Path]) -> list[Outcome]:
    return [Outcome(p, "failed", error=ProblemError("folder holds no problem files (*.toml)",
                                                    file=str(p)))
            for p in paths if p.is_dir() and not any(p.glob("*.toml"))]


def _read(paths: list[Path], formats: tuple[str, ...]) -> Iterator[
        tuple[Path, bytes | None, Exception | None]]:
    """Each problem file's bytes, read once (standard input can be read only once),
    or why it cannot be read or built: two problems that would write a file of the
    same name (a.toml twice, or a_torch.toml's py and a.toml's torch module) are both
    refused, since neither may silently replace the other."""
    writers: dict[str, list[Path]] = {}
    for path in paths:
        for fmt in formats:
            writers.setdefault(problem_name(path) + SUFFIXES[fmt], []).append(path)
    for path in paths:
        files = [problem_name(path) + SUFFIXES[fmt] for fmt in formats]
        clash = next(((file, others) for file in files
                      if (others := [display_name(p) for p in writers[file] if p != path])),
                     None)
        why = unfit_name(problem_name(path))
        if why:
            yield path, None, ProblemError(f"its outputs cannot take its name: {why}; rename "
                                           "the file", file=display_name(path))
            continue
        if clash:
            file, others = clash
            yield path, None, ProblemError(
                f"its output {file} would also be that of {', '.join(others)}: rename one, "
                "or build them into different output folders (-o)", file=display_name(path))
            continue
        try:
            yield path, read_problem(path), None
        except DerivgenError as error:
            yield path, None, error


def _run(items: list[tuple[Path, bytes]], work: Callable,
         options: Options) -> Iterator[tuple[Path, object, Exception | None]]:
    """``work(path, data)`` for every item, in ``options.jobs`` worker processes, as
    each finishes: a problem that takes long holds up no other."""
    if options.jobs <= 1 or len(items) <= 1:
        for path, data in items:
            try:
                yield path, work(path, data), None
            except Exception as error:      # refused, or a bug: either way the rest go on
                yield path, None, error
        return
    pool = ProcessPoolExecutor(max_workers=options.jobs, initializer=limit_worker,
                               initargs=(options.memory_limit, os.getpid()))
    finished = False
    try:
        running = {pool.submit(work, path, data): path for path, data in items}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                path = running.pop(future)
                try:
                    yield path, future.result(), None
                except Exception as error:
                    yield path, None, error
        finished = True
    finally:
        if not finished:            # interrupted (Ctrl-C, SIGTERM): end the workers now, or
            _kill_workers(pool)     # exiting would wait for the problems they are deriving
        pool.shutdown(wait=finished, cancel_futures=not finished)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    if hasattr(pool, "kill_workers"):                   # Python 3.14
        pool.kill_workers()
        return
    for process in list((pool._processes or {}).values()):
        process.kill()


def _in_order(paths: list[Path], outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
    """Outcomes in the order of ``paths``, each as soon as those before it are in, so
    that a log reads the same however the work was shared out."""
    ready: dict[Path, Outcome] = {}
    position = 0
    for outcome in outcomes:
        ready[outcome.path] = outcome
        while position < len(paths) and paths[position] in ready:
            yield ready.pop(paths[position])
            position += 1


class _Work:
    """A picklable ``produce`` with its options bound, for worker processes."""

    def __init__(self, options: Options) -> None:
        self.options = options

    def __call__(self, path: Path, data: bytes):
        return produce(path, data, self.options)


def _targets(out_dir: Path, path: Path, formats: Iterable[str]) -> dict[str, Path]:
    """The file of each of ``formats``, in the order of FORMATS."""
    return {f: out_dir / f"{problem_name(path)}{SUFFIXES[f]}" for f in FORMATS if f in formats}


def build_iter(paths: Iterable[str | Path], options: Options | None = None,
               **settings) -> Iterator[Outcome]:
    """Build every problem under ``paths``; outcomes in file order. ``settings``
    override fields of ``options`` (``out_dir``, ``formats``, ``jobs``, ...)."""
    options = _options(options, settings)
    paths = list(map(Path, paths))
    yield from _missing_folders(paths)
    problems = find_problems(paths)
    yield from _in_order(problems, _build(problems, options))


def _build(problems: list[Path], options: Options) -> Iterator[Outcome]:
    out_dir = options.out_dir
    _remove_stale_temporaries(out_dir)
    manifest = _read_manifest(out_dir)
    settings = settings_hash(options)
    todo, keys = [], {}
    for path, data, error in _read(problems, options.formats):
        if error is not None:
            yield Outcome(path, "failed", error=error)
            continue
        # hashed as read, before building: a file edited meanwhile is rebuilt next time
        keys[path] = hashlib.sha256(settings + data).hexdigest()
        targets = list(_targets(out_dir, path, options.formats).values())
        if not options.force and manifest.get(problem_name(path)) == _record(keys[path], targets):
            yield Outcome(path, "unchanged", written=tuple(targets))
        else:
            todo.append((path, data))
    for path, result, error in _run(todo, _Work(options), options):
        if error is not None:
            yield Outcome(path, "failed", error=error)
            continue
        outputs, summary = result
        written = _targets(out_dir, path, outputs)
        try:
            for fmt, target in written.items():
                write_atomically(target, outputs[fmt])
            manifest[problem_name(path)] = _record(keys[path], list(written.values()))
            write_atomically(out_dir / MANIFEST,
                             json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        except OutputError as error:
            yield Outcome(path, "failed", error=error.locate(file=display_name(path)))
            continue
        yield Outcome(path, "built", summary, written=tuple(written.values()))


def build(paths: Iterable[str | Path], options: Options | None = None, **settings) -> list[Outcome]:
    """:func:`build_iter`, collected."""
    return list(build_iter(paths, options, **settings))


def check_iter(paths: Iterable[str | Path], options: Options | None = None,
               **settings) -> Iterator[Outcome]:
    """Derive in memory and compare with the outputs in ``options.out_dir``: each
    problem is current, or has missing or stale outputs, or fails verification. A
    PDF is current when it was compiled from the LaTeX a build would write now (it
    says which in its metadata), so checking needs no pdflatex."""
    options = _options(options, settings)
    paths = list(map(Path, paths))
    yield from _missing_folders(paths)
    problems = find_problems(paths)
    yield from _in_order(problems, _check(problems, options))


def _check(problems: list[Path], options: Options) -> Iterator[Outcome]:
    from .render import compiled_from
    formats = options.formats
    todo = []
    for path, data, error in _read(problems, options.formats):
        if error is not None:
            yield Outcome(path, "failed", error=error)
        else:
            todo.append((path, data))
    rendered = tuple(f for f in formats if f != "pdf") + (("tex",) if "pdf" in formats else ())
    for path, result, error in _run(todo, _Work(replace(options, formats=rendered)), options):
        if error is not None:
            yield Outcome(path, "failed", error=error)
            continue
        outputs, summary = result
        missing, stale = [], []
        for fmt, target in _targets(options.out_dir, path, formats).items():
            if not target.is_file():
                missing.append(target)
            elif fmt == "pdf":
                if not compiled_from(target.read_bytes(), outputs["tex"]):
                    stale.append(target)
            elif target.read_bytes() != outputs[fmt].encode("utf-8"):
                stale.append(target)
        status = "missing" if missing else "stale" if stale else "current"
        yield Outcome(path, status, summary, differs=tuple(missing + stale))


def check(paths: Iterable[str | Path], options: Options | None = None, **settings) -> list[Outcome]:
    """:func:`check_iter`, collected."""
    return list(check_iter(paths, options, **settings))


def _record(inputs: str, outputs: list[Path]) -> dict:
    """A problem's entry in the manifest: the hash of its inputs and of each output as
    written, so that a changed input or a hand-edited or deleted output rebuilds it."""
    return {"inputs": inputs, "outputs": {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        for p in outputs}}


def _read_manifest(out_dir: Path) -> dict[str, dict]:
    """The record of the last builds; anything unreadable is as good as none."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


STALE_TEMPORARY_SECONDS = 600


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Temporary files left by a build that was killed outright (SIGKILL). Only old
    ones: a fresh one may belong to a build running beside this one."""
    if not out_dir.is_dir():
        return
    now = time.time()
    for leftover in out_dir.glob(".*.tmp"):
        try:
            if leftover.is_file() and now - leftover.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                leftover.unlink()
        except OSError:
            pass                            # gone already, or not ours to remove


def write_atomically(target: Path, content: str | bytes) -> None:
    """Write to a temporary file beside ``target``, then rename it into place; an
    OutputError naming ``target`` when the file system says no."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise OutputError(f"cannot write {target}: {e.strerror}") from None
    try:
        data = content.encode("utf-8") if isinstance(content, str) else content
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)                # mkstemp makes it private; outputs are for reading
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)       # a build beside this one may have swept it
        raise OutputError(f"cannot write {target}: {e.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
