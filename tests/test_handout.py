"""Handouts (derivgen.handout): a problem set as one document, and as an exercise
sheet with its solutions. Three small gallery problems, built once per module.

The .tex documents are compiled with pdflatex and the Markdown math is rendered
with KaTeX, as tests/test_reports.py does for single reports: when a tool is
missing these tests skip, unless DERIVGEN_REQUIRE_TOOLS is set, when they fail.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from derivgen.api import derive_file, render_outputs
from derivgen.errors import (DerivgenError, ExprError, OutputError, ProblemError,
                             TemplateError, VerificationError)
from derivgen.handout import handout
from derivgen.report import context
from test_reports import compile_tex, log_errors, math_fragments, missing_tool, run_katex

PROBLEMS = [ROOT / "problems" / f"{name}.toml"
            for name in ("logsumexp", "least_squares", "cookbook_trace")]
TITLES = ["Log-sum-exp: its gradient is the softmax",
          "Least squares: the normal-equations gradient",
          "Matrix Cookbook: the gradient of tr(AX)"]
# what each problem asks for: (of, wrt, shape), as typeset
ASKED = [[("L", "S", r"N \times C")], [("L", "W", r"D \times K")], [("L", "X", r"n \times n")]]
TITLE = "Matrix calculus, week 3"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The handout and the exercise sheet with its solutions, as md and tex: the paths
    each call returned and, by document, its text."""
    out = tmp_path_factory.mktemp("handouts")
    written = {"handout": handout(PROBLEMS, out / "week3", TITLE),
               "exercises": handout(PROBLEMS, out / "ex" / "week3", TITLE, exercises=True)}
    docs = {"handout": out / "week3", "exercises": out / "ex" / "week3",
            "solutions": out / "ex" / "week3-solutions"}
    text = {(doc, fmt): path.with_name(f"{path.name}.{fmt}").read_text(encoding="utf-8")
            for doc, path in docs.items() for fmt in ("md", "tex")}
    return {"out": out, "written": written, "docs": docs, "text": text}


@pytest.fixture(scope="module")
def results() -> list[dict[str, list[str]]]:
    """Each problem's results as its own report states them: the lines of each
    boxed gradient, by format."""
    found = []
    for path in PROBLEMS:
        outputs = render_outputs(derive_file(path), formats=("md", "tex"))
        found.append({fmt: [line for line in outputs[fmt].splitlines() if r"\boxed{" in line]
                      for fmt in ("md", "tex")})
        assert all(found[-1].values()), path
    return found


def problem_parts(text: str, fmt: str) -> list[str]:
    """The text of each problem, in order, from its heading to the next one."""
    heading = r"^## Problem \d+\n\n\*\*" if fmt == "md" else r"^\\problem\{Problem \d+: "
    return re.split(heading, text, flags=re.M)[1:]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the handout ----------------------------------------------------------------------

def test_the_handout_is_one_document_per_format(built):
    out = built["out"]
    assert built["written"]["handout"] == [out / "week3.md", out / "week3.tex"]
    tex = built["text"]["handout", "tex"]
    assert tex.count(r"\documentclass") == tex.count(r"\begin{document}") == 1
    assert tex.count(r"\end{document}") == 1 and tex.rstrip().endswith(r"\end{document}")
    assert tex.count(r"\maketitle") == 0          # no problem's own title page either


def test_the_handout_has_a_title_contents_and_the_problems_numbered_in_order(built):
    md, tex = built["text"]["handout", "md"], built["text"]["handout", "tex"]
    assert md.startswith(f"# {TITLE}\n")
    assert "\n## Contents\n" in md
    for n, title in enumerate(TITLES, 1):
        assert f"- [Problem {n}: {title}](#problem-{n})" in md
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == ["## Contents"] + [f"## Problem {n}" for n in range(1, 4)]
    for n, title in enumerate(TITLES, 1):
        assert f"\n## Problem {n}\n\n**{title}**\n\n" in md    # a paragraph of its own
    # each problem's sections sit under its heading, one level down
    assert md.count("\n### Setup\n") == md.count("\n### Results\n") == len(PROBLEMS)
    assert "\n## Setup" not in md

    assert TITLE in tex.split(r"\begin{titlepage}")[1].split(r"\end{titlepage}")[0]
    assert r"\tableofcontents" in tex
    problems = re.findall(r"^\\problem\{(.*)\}$", tex, flags=re.M)
    assert problems == [f"Problem {n}: {t}" for n, t in enumerate(TITLES, 1)]
    assert tex.index(r"\tableofcontents") < tex.index(r"\problem{Problem 1")


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_each_problem_carries_its_full_derivation_and_results(built, results, fmt):
    parts = problem_parts(built["text"]["handout", fmt], fmt)
    assert len(parts) == len(PROBLEMS)
    sections = (["### Setup", "### Forward pass", "### Element-wise view", "### Backward pass",
                 "### Results", "### Verification"] if fmt == "md" else
                [rf"\section*{{{s}}}" for s in ("Setup", "Forward pass", "Element-wise view",
                                                 "Backward pass", "Results", "Verification")])
    for part, own in zip(parts, results):
        assert [s for s in sections if s in part] == sections
        for line in own[fmt]:
            assert line in part                   # this problem's boxed gradients, here


# --- the exercise sheet and its solutions ---------------------------------------------

def test_the_exercise_sheet_and_its_solutions_are_written_side_by_side(built):
    ex = built["out"] / "ex"
    assert built["written"]["exercises"] == [ex / "week3.md", ex / "week3.tex",
                                             ex / "week3-solutions.md", ex / "week3-solutions.tex"]
    assert names(ex) == ["week3-solutions.md", "week3-solutions.tex", "week3.md", "week3.tex"]


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_the_exercise_sheet_asks_without_answering(built, fmt):
    text = built["text"]["exercises", fmt]
    assert r"\boxed" not in text
    for absent in ("Element-wise view", "Backward pass", "Results", "Verification"):
        assert absent not in text
    parts = problem_parts(text, fmt)
    assert len(parts) == len(PROBLEMS)
    for n, (part, title, asked) in enumerate(zip(parts, TITLES, ASKED), 1):
        assert part.startswith(title)
        for section in ("Setup", "Forward pass", "What to derive", "Your work"):
            assert section in part, (n, section)
        for of, wrt, shape in asked:
            derivative = (rf"\partial {of} / \partial {wrt}" if fmt == "md" else
                          rf"\dfrac{{\partial {of}}}{{\partial {wrt}}}")
            assert derivative in part and f"of shape ${shape}$" in part
    for part, path in zip(parts, PROBLEMS):
        for section in ("Notation", "Hints", "Self-check"):
            assert section in part, (path.name, section)
        # the self-check numbers are the report's: entry (1, 1) at the first point
        report = context(derive_file(path))
        for g in report["verification"]["gradients"]:
            sample = g["samples"][0]
            assert (rf"\partial L / \partial {g['name']}\right]_{{{sample['entry']}}} = "
                    rf"{sample['formula']}$") in part
    if fmt == "tex":
        assert text.count(r"\fbox{") == sum(map(len, ASKED))          # room to work
    else:
        assert "week3-solutions.md" in text


SECTIONS = {"md": ["### Setup", "### Forward pass", "### Element-wise view", "### Backward pass",
                   "### Results", "### Verification"],
            "tex": [rf"\section*{{{s}}}" for s in ("Setup", "Forward pass", "Element-wise view",
                                                  "Backward pass", "Results", "Verification")]}
FULL = {"md": r"^## Problem \d+ in full\n", "tex": r"^\\problem\{Appendix \d+: "}


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_the_solutions_answer_first_and_derive_in_full_after(built, results, fmt):
    """Each problem, numbered as on the sheet: its results and the gradients of the
    backward pass in brief (a page, not a whole report); then an appendix with every
    problem's full derivation."""
    solutions, sheet = built["text"]["solutions", fmt], built["text"]["exercises", fmt]
    answers, *full = re.split(FULL[fmt], solutions, flags=re.M)
    parts = problem_parts(answers, fmt)
    assert [a.splitlines()[0] for a in parts] == [b.splitlines()[0]
                                                   for b in problem_parts(sheet, fmt)]
    brief = "### The backward pass in brief" if fmt == "md" else \
        r"\section*{The backward pass in brief}"
    for part, own in zip(parts, results):
        assert all(line in part for line in own[fmt])
        assert brief in part and not any(s in part for s in SECTIONS[fmt][:4])
    assert len(full) == len(PROBLEMS)
    for part, own in zip(full, results):
        assert [s for s in SECTIONS[fmt] if s in part] == SECTIONS[fmt]
        assert all(line in part for line in own[fmt])
    # the solutions are the handout, called solutions
    assert ("Worked solutions" if fmt == "md" else r"{\Large Solutions\par}") in solutions


def test_the_exercise_sheet_asks_for_each_worked_entry_in_order(built):
    """The hints name the parts of each derivation: a worked entry to write out, the
    gradient to overlay it with, the result to read off (least squares: X W, back to W)."""
    md, tex = built["text"]["exercises", "md"], built["text"]["exercises", "tex"]
    part = next(line for line in problem_parts(md, "md")[1].splitlines()
                if line.startswith("1. "))
    assert part == (r"1. write $\partial \left(X W\right) / \partial W_{1,1}$ entry by entry; "
                    r"overlay it with the gradient of $\left(X W\right)$ and sum; then give "
                    r"$\partial L / \partial W$ for every entry, and check its shape;")
    assert r"\item write $\partial \left(X W\right) / \partial W_{1,1}$ entry by entry" in tex


def test_only_the_solutions_have_an_appendix(built):
    assert "Appendix" not in built["text"]["handout", "md"] + built["text"]["exercises", "md"]


@pytest.mark.parametrize("doc", ["handout", "solutions"])
def test_every_link_in_the_document_is_a_heading_slug_all_readers_agree_on(built, doc):
    """A link to #x within the document finds its heading in GitHub, MkDocs
    (Python-Markdown's toc) and MyST (Sphinx, mystmd): each computes the same slug
    from the heading's text, and no raw HTML anchor is needed (MyST ignores those)."""
    toc = pytest.importorskip("markdown.extensions.toc")
    slugs = pytest.importorskip("myst_parser.slugs")
    md = built["text"][doc, "md"]
    assert "<a " not in md
    headings = re.findall(r"^#+ (.*)$", md, flags=re.M)
    targets = set(re.findall(r"\]\(#([^)]*)\)", md))
    assert len(targets) >= len(PROBLEMS)
    for slugify in (lambda h: toc.slugify(h, "-"), slugs.github_slugify):
        assert targets <= {slugify(h) for h in headings}


def test_html_pages_link_within_themselves_and_the_sheet_to_its_solutions(tmp_path):
    written = handout(PROBLEMS, tmp_path / "week3", TITLE, formats=["html"], exercises=True)
    assert written == [tmp_path / "week3.html", tmp_path / "week3-solutions.html"]
    sheet, solutions = (path.read_text(encoding="utf-8") for path in written)
    assert '<a href="week3-solutions.html">week3-solutions.html</a>' in sheet
    for page in (sheet, solutions):
        assert f"<title>{TITLE}</title>" in page
        targets = set(re.findall(r'href="#([^"]+)"', page))
        assert len(targets) >= len(PROBLEMS)
        assert targets <= set(re.findall(r' id="([^"]+)"', page))


# --- the tools that read them ---------------------------------------------------------

@pytest.mark.parametrize("doc", ["handout", "exercises", "solutions"])
def test_the_latex_compiles_with_pdflatex(built, doc, tmp_path):
    path = built["docs"][doc]
    tex = path.with_name(f"{path.name}.tex")
    status, log, _ = compile_tex(tex, tmp_path, twice=True)
    errors = log_errors(log)
    assert status == 0 and not errors, f"{tex.name}: exit {status}:\n  " + "\n  ".join(errors)
    assert (tmp_path / tex.with_suffix(".pdf").name).stat().st_size > 0
    contents = (tmp_path / tex.with_suffix(".toc").name).read_text(errors="replace")
    assert [f"Problem {n}: {t}" in contents for n, t in enumerate(TITLES, 1)] == [True] * 3


def test_the_markdown_math_renders_with_katex(built):
    fragments, problems = [], []
    for doc in ("handout", "exercises", "solutions"):
        found, trouble = math_fragments(built["text"][doc, "md"], f"{doc}.md")
        assert len(found) > 10, doc
        fragments += found
        problems += trouble
    done = run_katex(fragments)
    assert not problems and done.returncode == 0, "\n".join(problems) + done.stdout


def test_pdf_documents_are_compiled_and_written(tmp_path):
    if not shutil.which("pdflatex"):
        missing_tool("pdflatex is not installed")
    written = handout(PROBLEMS[:2], tmp_path / "sheet", TITLE, formats=["pdf"], exercises=True)
    assert written == [tmp_path / "sheet.pdf", tmp_path / "sheet-solutions.pdf"]
    assert names(tmp_path) == ["sheet-solutions.pdf", "sheet.pdf"]
    assert all(p.read_bytes().startswith(b"%PDF") for p in written)


# --- input: folders, order, templates ---------------------------------------------------

def test_folders_give_their_problems_in_sorted_order(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    shutil.copy(PROBLEMS[0], folder / "b.toml")
    shutil.copy(PROBLEMS[2], folder / "a.toml")
    handout([PROBLEMS[1], folder], tmp_path / "h", TITLE, formats=["md"])
    md = (tmp_path / "h.md").read_text(encoding="utf-8")
    assert re.findall(r"^## Problem (\d+)\n\n\*\*(.*)\*\*$", md, flags=re.M) == [
        ("1", TITLES[1]), ("2", TITLES[2]), ("3", TITLES[0])]


def test_an_override_of_a_report_block_shows_in_the_handout(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.md.j2").write_text(
        '{% extends "base.md.j2" %}\n{% block verification %}\n'
        "{{ '#' * level }} Checked\n\nChecked by the course staff: {{ title }}.\n{% endblock %}\n",
        encoding="utf-8")
    handout(PROBLEMS[:2], tmp_path / "h", TITLE, formats=["md"], templates=mine)
    md = (tmp_path / "h.md").read_text(encoding="utf-8")
    # the block takes its heading level from the context: 3 in a handout
    assert "Verification" not in md and md.count("\n### Checked\n") == 2
    for title in TITLES[:2]:
        assert f"Checked by the course staff: {title}." in md


# --- failures: an error, and nothing written --------------------------------------------

BAD = {
    "refused": ('sum(logsumexpp(S, axis=1))', "", ExprError),
    "refuted": ('sum(logsumexp(S, axis=1))', '\n[expect]\nS = "exp(S)"\n', VerificationError),
}


@pytest.mark.parametrize("exercises", [False, True])
@pytest.mark.parametrize("case", list(BAD))
def test_a_failing_problem_writes_nothing(problem_file, tmp_path, case, exercises):
    expr, extra, error = BAD[case]
    text = PROBLEMS[0].read_text(encoding="utf-8").split("\n[expect]")[0]
    text = text.replace('"sum(logsumexp(S, axis=1))"', f'"{expr}"') + extra
    bad = problem_file(text, "bad.toml")
    out = tmp_path / "out"
    with pytest.raises(error) as raised:
        handout([PROBLEMS[1], bad, PROBLEMS[2]], out / "week3", TITLE, exercises=exercises)
    assert "bad.toml" in str(raised.value)
    assert names(out) == []


def test_a_broken_template_writes_nothing(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "exercises.md.j2").write_text(
        '{% extends "handout.md.j2" %}\n{% block problem %}\n{{ p.titel }}\n{% endblock %}\n',
        encoding="utf-8")
    with pytest.raises(TemplateError, match=r"exercises\.md\.j2:3: template error: .*titel"):
        handout(PROBLEMS[:1], tmp_path / "out" / "w", TITLE, exercises=True, templates=mine)
    assert names(tmp_path / "out") == []


def test_a_pdf_that_fails_to_compile_writes_nothing(tmp_path):
    if not shutil.which("pdflatex"):
        missing_tool("pdflatex is not installed")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.tex.j2").write_text(
        '((* extends "base.tex.j2" *))\n((* block preamble *))\n\\usepackage{nosuchpackage}\n'
        '((* endblock *))\n', encoding="utf-8")
    with pytest.raises(OutputError, match="pdflatex failed"):
        handout(PROBLEMS[:1], tmp_path / "out" / "w", TITLE, formats=["md", "tex", "pdf"],
                templates=mine)
    assert names(tmp_path / "out") == []


def test_no_problems_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProblemError, match="no problem files"):
        handout([], tmp_path / "out" / "w", TITLE)
    with pytest.raises(ProblemError, match="folder holds no problem files") as raised:
        handout([PROBLEMS[0], tmp_path / "empty"], tmp_path / "out" / "w", TITLE)
    assert raised.value.file == str(tmp_path / "empty")
    assert names(tmp_path / "out") == []


def test_only_document_formats_are_accepted(tmp_path):
    with pytest.raises(OutputError, match="not json"):
        handout(PROBLEMS[:1], tmp_path / "w", TITLE, formats=["md", "json"])
    assert isinstance(OutputError("x"), DerivgenError)
    assert names(tmp_path) == []
