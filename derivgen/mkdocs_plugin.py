"""derivgen as a MkDocs plugin: a page embeds a derivation by naming its problem file.

In ``mkdocs.yml``::

    plugins:
      - derivgen:
          problems_dir: .            # what page names are relative to (default: mkdocs.yml's folder)
          cache_dir: .cache/derivgen # derivations kept between builds (default)
          templates: null            # a folder of report templates, searched first
    markdown_extensions:
      - pymdownx.arithmatex:
          generic: true              # $...$ and $$...$$ for KaTeX or MathJax

A page writes ``{{ derivation("problems/softmax.toml") }}``, or the same name in
a fenced block (```` ```derivation ````), and gets that problem's Markdown report
in its place; ``{{ handout("problems/a.toml", "problems/b.toml", title="Week 3") }}``
embeds a handout (folders give their problems in sorted order). Text in code
blocks and code spans is left alone, so a page can show the syntax.

Names are relative to ``problems_dir`` (itself relative to ``mkdocs.yml``'s
folder) and may not leave it (:class:`derivgen.embed.Site`). A problem is derived
again only when it changed (:mod:`derivgen.embed`); ``mkdocs serve`` watches the
problem files and templates the pages use. A problem that fails stops the build
with derivgen's one-line message (a :class:`~mkdocs.exceptions.PluginError`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from .embed import Site
from .errors import DerivgenError

__all__ = ["DerivgenPlugin"]

log = logging.getLogger("mkdocs.plugins.derivgen")

# What a page may write, found in one pass so that code is skipped as a whole: a
# fenced block (embedded when its info string is ``derivation``), a code span
# (never embedded), or a call {{ derivation(...) }} / {{ handout(...) }}.
_PAGE = re.compile(r"""
    ^(?P<fence>[ ]{0,3}(?P<ticks>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)\n
        (?P<body>.*?)\n?^[ ]{0,3}(?P=ticks)[ \t]*$)
  | (?P<span>(?P<quote>`+)[^\n]*?(?P=quote))
  | (?P<call>\{\{[ \t]*(?P<name>derivation|handout)[ \t]*\((?P<args>[^\n]*?)\)[ \t]*\}\})
""", re.M | re.S | re.X)
# one argument of a call: "a string", or title="a string"
_ARG = re.compile(r'[ \t]*(?:(?P<key>\w+)[ \t]*=[ \t]*)?"(?P<value>[^"\\\n]*)"[ \t]*(?:,|$)')


class DerivgenConfig(base.Config):
    problems_dir = c.Type(str, default=".")
    cache_dir = c.Type(str, default=".cache/derivgen")
    templates = c.Optional(c.Type(str))


class DerivgenPlugin(BasePlugin[DerivgenConfig]):
    """Embeds derivations and handouts in pages (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.server = None                  # mkdocs serve's, once it starts
        self.watched: set[Path] = set()

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Nothing to do: defining it keeps this one plugin object across the rebuilds
        of ``mkdocs serve``, so that every build knows the files already watched."""

    def on_config(self, config):
        folder = Path(config.config_file_path or "mkdocs.yml").resolve().parent
        templates = self.config.templates
        self.site = Site(folder / self.config.problems_dir, folder / self.config.cache_dir,
                         folder / templates if templates else None)
        return config

    def on_serve(self, server, config, builder):
        self.server = server
        for path in self.watched:
            server.watch(str(path))
        return server

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        return _PAGE.sub(self._replace, markdown)

    def _replace(self, match: re.Match) -> str:
        if match["call"]:
            args = _arguments(match["call"], match["args"])
            names, title = args.pop(None), args.pop("title", None)
            if match["name"] == "handout" and title is not None and not args:
                return self._embed(lambda: self.site.handout(names, title), names)
            if match["name"] == "derivation" and title is None and len(names) == 1 and not args:
                return self._embed(lambda: self.site.derivation(names[0]), names)
            raise PluginError(f"derivgen: cannot read {match['call']}: write "
                              '{{ derivation("FILE") }} or {{ handout("FILE", ..., title="T") }}')
        if match["fence"] and match["info"].strip() == "derivation":
            name = match["body"].strip()
            return self._embed(lambda: self.site.derivation(name), [name])
        return match[0]

    def _embed(self, make, names: list[str]) -> str:
        """The Markdown ``make()`` gives, with derivgen's error as the build's."""
        try:
            self._watch(self.site.files(names))
            embedded = make()
        except DerivgenError as error:
            raise PluginError(f"derivgen: {error}") from None
        self._watch(embedded.files)
        if embedded.derived:
            log.info("derivgen: derived %s", ", ".join(names))
        return "\n" + embedded.markdown + "\n"

    def _watch(self, paths) -> None:
        for path in set(paths) - self.watched:
            self.watched.add(path)
            if self.server is not None:     # found by a rebuild of `mkdocs serve`
                self.server.watch(str(path))


def _arguments(call: str, text: str) -> dict:
    """The strings of a call by keyword, the positional ones under ``None``: only
    string literals, read by a regular expression, never evaluated."""
    args: dict = {None: []}
    position = 0
    while position < len(text.rstrip()):
        arg = _ARG.match(text, position)
        if not arg or arg.end() == position:
            raise PluginError(f"derivgen: cannot read {call}: its arguments are \"strings\" and "
                              "title=\"...\"")
        if arg["key"]:
            args[arg["key"]] = arg["value"]
        else:
            args[None].append(arg["value"])
        position = arg.end()
    return args
