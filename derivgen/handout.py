"""Handouts: a course's problem set as one document.

:func:`handout` derives every problem of a set and writes one document: a title
page, a table of contents, and the problems numbered in order, each with its
full derivation. With ``exercises=True`` it writes an exercise sheet instead
(each problem's statement, setup, forward pass, what to derive and room to
work) and, beside it, the matching solutions.

A problem's sections are not copied into the handout templates: each is the
block of the same name (``summary``, ``setup``, ``forward``, ...) of the report
template ``report.md.j2`` / ``report.tex.j2``, rendered per problem with that
problem's :func:`derivgen.report.context`, so a block a user overrides for
``derivgen build`` reads the same in a handout. The handout templates
(``handout.md.j2``, ``handout.tex.j2``, ``exercises.md.j2``,
``exercises.tex.j2``, found on the same search path) arrange those rendered
sections; they receive ``problems``, each with ``sections`` (by block name),
``number``, ``anchor``, ``title``, ``summary``, ``of``, ``wrt`` (name and shape of each
gradient asked for) and ``report`` (the full report context).

Nothing is written until every problem is derived and every document rendered
(and compiled, for PDF): a failing problem raises its error and leaves nothing
behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .api import HANDOUT_FORMATS, derive_file, find_problems, within_limits, write_atomically
from .budget import DEFAULT_TIME_LIMIT
from .errors import OutputError, ProblemError, TemplateError
from .render import TEMPLATES, environment, markdown_blocks, page, pdf, template_errors
from .sources import display_name

__all__ = ["handout", "SECTIONS"]

#: The report template's section blocks, in the order a full derivation shows them.
SECTIONS = ("summary", "setup", "notation", "forward", "elementwise", "backward", "derivatives",
            "results",
            "verification")
_DOCUMENTS = {"handout": {"md": "handout.md.j2", "tex": "handout.tex.j2"},
              "exercises": {"md": "exercises.md.j2", "tex": "exercises.tex.j2"}}


def handout(paths: Iterable[str | Path], out: str | Path, title: str,
            formats: Iterable[str] = ("md", "tex"), exercises: bool = False,
            templates: str | Path | None = None, katex: str | Path | None = None,
            time_limit: float | None = DEFAULT_TIME_LIMIT) -> list[Path]:
    """Derive every problem under ``paths`` (files, and folders as their sorted
    ``*.toml``, as :func:`derivgen.api.find_problems` gives them) and write them
    as one document: ``out.md``, ``out.tex``, ``out.pdf``, ``out.html`` for the formats
    asked (an ``out`` ending in one of them loses it); an HTML page inlines the KaTeX
    in the folder ``katex``, if given, as ``derivgen build --self-contained`` does.
    Each problem is derived within ``time_limit`` seconds, as ``derivgen build`` does.

    With ``exercises`` the document is an exercise sheet, and the full
    derivations go to ``out-solutions.md`` (``.tex``, ``.pdf``) beside it.
    Returns the paths written. Raises the first problem's
    :class:`~derivgen.errors.DerivgenError` (nothing is written then), and
    :class:`~derivgen.errors.ProblemError` when ``paths`` name no problem.
    """
    paths, formats, out = [Path(p) for p in paths], tuple(formats), Path(out)
    unknown = [f for f in formats if f not in HANDOUT_FORMATS]
    if unknown or not formats:
        raise OutputError(f"a handout is written as {', '.join(HANDOUT_FORMATS)}, "
                          f"not {', '.join(unknown) or '(no format)'}")
    if out.suffix[1:] in HANDOUT_FORMATS:           # handout.md names the document handout
        out = out.with_suffix("")
    files = _problem_files(paths)
    # the PDF is compiled from the LaTeX, the HTML page made of the Markdown
    needs = {"md": ("md", "html"), "tex": ("tex", "pdf")}
    rendered = [fmt for fmt, uses in needs.items() if set(uses) & set(formats)]

    from .report import context                     # sympy loads here, not at import
    problems: dict[str, list[dict]] = {fmt: [] for fmt in rendered}
    preambles: list[str] = []
    for number, path in enumerate(files, 1):
        with within_limits(display_name(path), time_limit):
            report = context(derive_file(path))
        for fmt in rendered:
            # in a handout a report's sections sit one level under their problem's heading
            sections = _sections(report | {"level": 3}, fmt, templates)
            preamble = sections.pop("preamble", "").strip()
            if fmt == "tex" and preamble and preamble not in preambles:
                preambles.append(preamble)
            problems[fmt].append(_problem(number, report, sections))

    solutions = f"{out.name}-solutions"
    documents = ([("exercises", out), ("solutions", out.with_name(solutions))] if exercises
                 else [("handout", out)])
    outputs: list[tuple[Path, str | bytes]] = []
    for kind, target in documents:
        template = _DOCUMENTS["exercises" if kind == "exercises" else "handout"]
        values = {"title": title, "kind": kind, "solutions": solutions, "preambles": preambles}

        def text(fmt: str, linked: str = "md") -> str:
            """The document in ``fmt``, linking to the solutions' ``.linked`` file."""
            return _render(template[fmt], fmt, templates, values | {
                "problems": problems[fmt], "solutions_file": f"{solutions}.{linked}"})
        if "md" in formats:
            outputs.append((target.with_name(f"{target.name}.md"), markdown_blocks(text("md"))))
        if "tex" in formats or "pdf" in formats:
            tex = text("tex")
            if "tex" in formats:
                outputs.append((target.with_name(f"{target.name}.tex"), tex))
            if "pdf" in formats:
                outputs.append((target.with_name(f"{target.name}.pdf"), pdf(tex)))
        if "html" in formats:
            markdown = markdown_blocks(text("md", linked="html"))
            outputs.append((target.with_name(f"{target.name}.html"),
                            page(markdown, title, katex, templates)))
    for target, content in outputs:                  # all rendered and compiled: now write
        write_atomically(target, content)
    return [target for target, _ in outputs]


def _problem_files(paths: list[Path]) -> list[Path]:
    for path in paths:
        if path.is_dir() and not any(path.glob("*.toml")):
            raise ProblemError("folder holds no problem files (*.toml)", file=str(path))
    files = find_problems(paths)
    if not files:
        raise ProblemError("no problem files given for the handout")
    return files


def _problem(number: int, report: dict, sections: dict[str, str]) -> dict:
    """One problem as the handout templates see it. ``anchor`` is what links to the
    problem: the slug every Markdown reader (GitHub, MkDocs, MyST, pandoc) gives the
    heading "Problem N", whatever the title holds, and the LaTeX hypertarget."""
    return {"number": number, "anchor": f"problem-{number}", "title": report["title"],
            "summary": report["summary"], "name": report["name"], "of": report["of"],
            "wrt": [{"name": g["name"], "shape": g["shape"]} for g in report["results"]],
            "sections": sections, "report": report}


def _sections(report: dict, fmt: str, user_dir) -> dict[str, str]:
    """Each section block of the report template (with the user's overrides), rendered
    for one problem, by block name; and its ``preamble`` block, for LaTeX."""
    env = environment(fmt, user_dir)
    names = SECTIONS + (("preamble",) if fmt == "tex" else ())
    with template_errors(user_dir):
        template = env.get_template(TEMPLATES[fmt])
        try:
            ctx = template.new_context(dict(report))
            # Render the whole report once (and throw it away): that runs its
            # {% extends %}, which is what collects the blocks of every template in
            # the chain, the user's overrides first; it also raises whatever the
            # report itself would raise.
            for _ in template.root_render_func(ctx):
                pass
            sections = {name: env.concat(ctx.blocks[name][0](ctx))
                        for name in names if name in ctx.blocks}
        except Exception:
            env.handle_exception()          # re-raises, the traceback pointing into templates
    if not set(sections) & set(SECTIONS):
        raise TemplateError(f"{TEMPLATES[fmt]} has none of the section blocks a handout is "
                            f"made of ({', '.join(SECTIONS)}): extend base.{fmt}.j2",
                            file=template.filename)
    return {name: sections.get(name, "") for name in names}


def _render(name: str, fmt: str, user_dir, values: dict) -> str:
    env = environment(fmt, user_dir)
    with template_errors(user_dir):
        return env.get_template(name).render(**values)
