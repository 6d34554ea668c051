"""derivgen as a Sphinx extension: a page embeds a derivation by naming its problem file.

In ``conf.py``::

    extensions = ["myst_parser", "derivgen.sphinx_ext"]
    derivgen_problems_dir = "."      # relative to conf.py's folder; default: the source folder
    derivgen_cache_dir = ""          # default: <doctrees>/derivgen, beside Sphinx's own cache
    derivgen_templates = ""          # a folder of report templates, searched first

In reStructuredText::

    .. derivation:: problems/softmax.toml

    .. handout:: problems/logsumexp.toml problems/jacobian_axb.toml
       :title: Week 3

and in MyST Markdown the same directives, ```` ```{derivation} problems/softmax.toml ````.
A directive stands at the top level of a page: the report's headings become
sections under the page's current one (or the page's title, when nothing precedes).

Problem names are relative to ``derivgen_problems_dir`` (not to the page), and
may not leave it (:class:`derivgen.embed.Site`). The report's Markdown is read by
MyST with its dollarmath and amsmath extensions, whatever the site's own ``myst_*``
settings say, so Sphinx typesets the math with its own math machinery (MathJax in
HTML); its links to its own headings (a handout's contents) are resolved here. A
page depends on its problem files and the templates, so Sphinx reads again only
the pages whose problem changed, and :mod:`derivgen.embed` derives again only the
problems that changed. A problem that fails is an error with derivgen's one-line
message, at the directive's line (``-W`` then fails the build).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from . import __version__
from .embed import Embedded, Site
from .errors import DerivgenError
from .html import slug

__all__ = ["setup"]

logger = logging.getLogger(__name__)


class _Embed(SphinxDirective):
    """What the two directives share: derive, note what the page depends on, and
    read the Markdown into the page."""

    def embed(self, names: list[str], make) -> list[nodes.Node]:
        config = self.config
        site = Site(config.derivgen_problems_dir, config.derivgen_cache_dir,
                    config.derivgen_templates or None)
        try:
            for path in site.files(names):      # first, so that a fix of a failing
                self.env.note_dependency(str(path))     # problem is read again
            embedded: Embedded = make(site)
        except DerivgenError as error:
            raise self.error(f"derivgen: {error}") from None
        for path in embedded.files:
            self.env.note_dependency(str(path))
        if embedded.derived:
            logger.info("derivgen: derived %s", ", ".join(names))
        return markdown_nodes(embedded.markdown, self.state.document)


class DerivationDirective(_Embed):
    """``.. derivation:: FILE``: the report of one problem file."""
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        return self.embed(self.arguments, lambda site: site.derivation(self.arguments[0]))


class HandoutDirective(_Embed):
    """``.. handout:: FILE...`` with ``:title:``: the problems as one handout."""
    required_arguments = 1
    optional_arguments = 100            # a handout of many problems, one argument each
    option_spec = {"title": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        if "title" not in self.options:
            raise self.error("derivgen: a handout needs a :title:")
        return self.embed(self.arguments,
                          lambda site: site.handout(self.arguments, self.options["title"]))


def markdown_nodes(markdown: str, page: nodes.document) -> list[nodes.Node]:
    """``markdown`` as docutils nodes for ``page``: read by MyST into a scratch
    document of the page's settings and reporter (its warnings are the page's),
    its links to its own headings resolved, its ids made the page's."""
    from myst_parser.config.main import MdParserConfig
    from myst_parser.mdit_to_docutils.sphinx_ import SphinxRenderer
    from myst_parser.parsers.mdit import create_md_parser
    scratch = nodes.document(page.settings, page.reporter, source=page["source"])
    parser = create_md_parser(MdParserConfig(enable_extensions={"dollarmath", "amsmath"}),
                              SphinxRenderer)
    parser.options["document"] = scratch
    parser.render(markdown)
    _link_headings(scratch)
    read = list(scratch.children)
    _adopt_ids(read, page)
    return read


def _link_headings(document: nodes.document) -> None:
    """Point each ``[...](#slug)`` link of the Markdown at the heading of that slug.
    Left to MyST, it would be looked up among the page's own headings, and only
    when the site sets ``myst_heading_anchors``."""
    sections: dict[str, nodes.section] = {}
    for section in document.findall(nodes.section):
        sections.setdefault(slug(section[0].astext()), section)
    for reference in document.findall(nodes.reference):
        target = sections.get(reference["refuri"][1:]) if reference.get("id_link") else None
        if target is not None:
            del reference["refuri"], reference["id_link"]
            reference["refid"] = target["ids"][0]


def _adopt_ids(read: list[nodes.Node], page: nodes.document) -> None:
    """Register the ids of nodes read in a scratch document with the page, which
    must know every id it holds; an id the page already has (a second report's
    "setup") is renamed, and the links to it follow."""
    renamed: dict[str, str] = {}
    elements = [e for node in read for e in node.findall(nodes.Element)]
    for element in elements:
        for i, old in enumerate(element["ids"]):
            new, n = old, 1
            while new in page.ids:
                n += 1
                new = f"{old}-{n}"
            element["ids"][i] = renamed[old] = new
            page.ids[new] = element
    for element in elements:
        if element.get("refid") in renamed:
            element["refid"] = renamed[element["refid"]]


def _resolve_paths(app, config) -> None:
    """Make the folders of conf.py absolute: relative to conf.py's folder, or the
    defaults (the source folder; derivgen's cache beside Sphinx's doctrees)."""
    here = Path(app.confdir)
    config.derivgen_problems_dir = str(here / (config.derivgen_problems_dir or app.srcdir))
    config.derivgen_cache_dir = str(here / config.derivgen_cache_dir if config.derivgen_cache_dir
                                    else Path(app.doctreedir) / "derivgen")
    if config.derivgen_templates:
        config.derivgen_templates = str(here / config.derivgen_templates)


def setup(app) -> dict:
    app.setup_extension("myst_parser")         # the reader of the reports' Markdown
    app.add_config_value("derivgen_problems_dir", "", "env", str)
    app.add_config_value("derivgen_cache_dir", "", "", str)
    app.add_config_value("derivgen_templates", "", "env", str)
    app.connect("config-inited", _resolve_paths)
    app.add_directive("derivation", DerivationDirective)
    app.add_directive("handout", HandoutDirective)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
