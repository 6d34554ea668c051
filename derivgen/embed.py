"""Derivations embedded in documentation sites: what the MkDocs plugin
(:mod:`derivgen.mkdocs_plugin`) and the Sphinx extension (:mod:`derivgen.sphinx_ext`)
share.

A page names a problem file relative to its site's problems folder. A name that
leads out of that folder (``..``, an absolute path, a symbolic link pointing out)
is refused: page text must not make a build read any file on the machine.

A derivation is built into the site's cache folder by derivgen's own build
(:func:`derivgen.api.build`, Markdown only), whose manifest rebuilds it only when
its file, the templates or derivgen changed; each problem has a folder of its
own there, so two problems of the same file name never take each other's place.
A handout, which :func:`derivgen.api.build` does not make, is kept beside a hash
of the same things (derivgen's version, the templates, the title, the problem
files). A failure is the :class:`~derivgen.errors.DerivgenError` derivgen would
print, naming the problem as the page names it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .api import Options, build, find_problems, settings_hash, template_files, write_atomically
from .errors import DerivgenError, ProblemError
from .sources import read_problem

__all__ = ["Embedded", "Site"]


@dataclass(frozen=True)
class Embedded:
    """Markdown to put in a page, and what it was made from."""
    markdown: str
    derived: bool                   # derived by this call (False: read from the cache)
    files: tuple[Path, ...]         # the problem files and templates: a site watches them


class Site:
    """A site's problems folder, its cache folder and its templates (``None``:
    derivgen's search path, as ``derivgen build`` has it)."""

    def __init__(self, problems: str | Path, cache: str | Path,
                 templates: str | Path | None = None) -> None:
        self.root = Path(problems).resolve()
        self.cache = Path(cache)
        self.templates = Path(templates) if templates else None

    def path(self, name: str) -> Path:
        """The file or folder a page calls ``name``, if it lies in the problems folder."""
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            raise ProblemError(f"outside the site's problems folder {self.root}: name a "
                               "problem file relative to it, inside it", file=name)
        if not path.exists():
            raise ProblemError(f"no such problem file in {self.root}", file=name)
        return path

    def files(self, names: list[str]) -> list[Path]:
        """The problem files ``names`` give (a folder gives its ``*.toml``), for a site
        to watch before it derives them: a failing problem is watched too."""
        return find_problems(self.path(name) for name in names)

    def derivation(self, name: str) -> Embedded:
        """The Markdown report of problem file ``name``."""
        path = self.path(name)
        if not path.is_file():
            raise ProblemError("not a problem file: name one .toml file", file=name)
        out = self.cache / "derivations" / _digest(str(path).encode())
        [outcome] = build([path], Options(out_dir=out, formats=("md",),
                                          templates=self.templates))
        if outcome.error is not None:
            raise self._named(outcome.error)
        return Embedded(outcome.written[0].read_text(encoding="utf-8"),
                        outcome.status == "built", (path, *template_files(self.templates)))

    def handout(self, names: list[str], title: str) -> Embedded:
        """The Markdown handout (:func:`derivgen.handout.handout`) of the problems
        ``names`` (files, or folders of them) under ``title``."""
        from .handout import handout
        files = self.files(names)
        folder = self.cache / "handouts" / _digest("\0".join([title, *map(str, files)]).encode())
        # what a build's outputs depend on (derivgen, the templates), and the handout's own
        key = hashlib.sha256(settings_hash(Options(formats=("md",), templates=self.templates))
                             + f"\0{title}\0".encode())
        document, stamp = folder / "handout.md", folder / "key"
        try:
            for path in files:
                key.update(str(path).encode() + b"\0" + read_problem(path))
            derived = not (stamp.is_file() and stamp.read_text() == key.hexdigest()
                           and document.is_file())
            if derived:
                handout(files, folder / "handout", title, formats=("md",),
                        templates=self.templates)
                write_atomically(stamp, key.hexdigest())
        except DerivgenError as error:
            raise self._named(error) from None
        return Embedded(document.read_text(encoding="utf-8"), derived,
                        (*files, *template_files(self.templates)))

    def _named(self, error: Exception) -> Exception:
        """``error``, naming its problem file relative to the problems folder, as the
        page does, instead of by the absolute path the build was given."""
        if isinstance(error, DerivgenError) and error.file:
            path = Path(error.file)
            if path.is_absolute() and path.is_relative_to(self.root):
                error.file = path.relative_to(self.root).as_posix()
        return error



def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
