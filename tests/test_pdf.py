"""PDFs: everything derivgen can write compiles, the same source gives the same
bytes, `check` knows a stale PDF, and TeX reads and writes nothing outside its job.

The first test builds one report from the registries rather than from the
gallery: every operator (each axis form), every assumption and every character
the LaTeX text filter translates, so that no combination the gallery happens not
to use can stop pdflatex. These tests need pdflatex: without it they skip,
unless DERIVGEN_REQUIRE_TOOLS is set (as in CI), when they fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib

import pytest

from conftest import SOFTMAX
from derivgen.api import build
from derivgen.expr import to_source
from derivgen.forms import ShapeMismatch
from derivgen.nodes import Ref, make
from derivgen.op import applied
from derivgen.ops import OPS
from derivgen.assumptions import DECLARED
from derivgen.render import _UNICODE_TEX
from derivgen.shapes import Shape
from test_reports import missing_tool

AXES = {"none": [None], "optional": [None, 0, 1], "required": [0, 1]}
# a user's text: Latin letters with accents, typographic punctuation, and what the
# filter must translate or show by code point rather than stop pdflatex
ACCENTED = "".join(map(chr, range(0xA0, 0x180)))
USER_TEXT = f"Ünïcödé — “quoted” ‘text’ – {ACCENTED} {''.join(_UNICODE_TEX)} 日本 \u2603"


@pytest.fixture(autouse=True)
def pdflatex():
    if not shutil.which("pdflatex"):
        missing_tool("pdflatex is not installed (Debian: apt-get install "
                     "texlive-latex-base texlive-latex-recommended)")


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def shapes_for(op, axis) -> tuple[Shape, ...]:
    """The operator's first example shapes that fit ``axis`` (else square ones), with
    every dim n."""
    for shapes in op.examples or ((Shape("n", "n"),) * op.arity,):
        shapes = tuple(Shape(*(d if d == 1 else "n" for d in (s.rows, s.cols)),
                             "n" if s.labels else None) for s in shapes)
        try:
            op.shape(shapes, op.span(shapes, axis) if op.span else axis)
            return shapes
        except ShapeMismatch:
            continue
    raise AssertionError(f"{op.name} takes none of its example shapes at axis {axis}")


def dim(d) -> str:
    return '"n"' if d == "n" else str(d)


def everything_problem() -> str:
    """A problem with one step per operator and axis form, each on inputs of its own
    (so that each input is sampled in its operator's domain; constant where the
    operator's derivative is zero), and one input per assumption; the scalar L adds
    them all up."""
    inputs, steps, terms = {}, {}, []
    for op in OPS.values():
        for axis in AXES[op.axis]:
            args = []
            for n, (rule, shape) in enumerate(zip(op.vjp, shapes_for(op, axis)[:op.written])):
                name = f"a{len(inputs) + 1}"
                condition = n in op.conditions          # written as one: a > 0
                kind = ('labels = "n"' if shape.labels else
                        f"constant = {str(rule is None or condition).lower()}")
                inputs[name] = (f'{{ shape = [{dim(shape.rows)}, {dim(shape.cols)}], {kind}, '
                                f'description = {toml_string(op.doc)} }}')
                arg = Ref(name, "input", shape)
                args.append(make("greater", arg, 0) if condition else arg)
            step = f"s{len(steps) + 1}"
            value = to_source(applied(op, args, axis))
            steps[step] = f"where({value}, 1, 0)" if op.boolean else value   # a number
            terms.append(f"sum({step})")
    for assumption in DECLARED:
        name, partner = f"y{len(inputs) + 1}", f"a{len(inputs) + 2}"
        inputs[name] = f'{{ shape = ["n", "n"], constant = true, assume = ["{assumption}"] }}'
        inputs[partner] = '{ shape = ["n", "n"], constant = false }'
        steps[f"s{len(steps) + 1}"] = f"{name} * {partner}"
        terms.append(f"sum(s{len(steps)})")
    steps["L"] = " + ".join(terms)
    wrt = [n for n, spec in inputs.items() if "constant = false" in spec]
    return "\n".join([
        f"title = {toml_string('Every operator: ' + USER_TEXT)}",
        f"summary = {toml_string(USER_TEXT)}",
        "[dims]", "n = 2", "[inputs]", *(f"{k} = {v}" for k, v in inputs.items()),
        "[steps]", *(f"{k} = {toml_string(v)}" for k, v in steps.items()),
        "[derive]", 'of = "L"', f"wrt = {wrt}".replace("'", '"'), ""])


def test_every_operator_assumption_and_text_compiles(tmp_path):
    problem = tmp_path / "everything.toml"
    problem.write_text(everything_problem(), encoding="utf-8")
    (outcome,) = build([problem], out_dir=tmp_path / "out", formats=["tex", "pdf"])
    assert outcome.error is None, str(outcome.error)
    pdf = (tmp_path / "out" / "everything.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    tex = (tmp_path / "out" / "everything.tex").read_text(encoding="utf-8")
    assert r"\ensuremath{\geq}" in tex and "[U+65E5]" in tex and "[U+0126]" in tex


def test_the_same_source_gives_the_same_pdf_bytes(cli, tmp_path, problem_file):
    problem_file(SOFTMAX, "softmax.toml")
    assert cli("build", "softmax.toml", "-o", "one", "-f", "pdf").exit_code == 0
    assert cli("build", "softmax.toml", "-o", "two", "-f", "pdf").exit_code == 0
    one, two = (tmp_path / d / "softmax.pdf" for d in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()
    assert b"/CreationDate (D:19700101000000Z)" in one.read_bytes()


def test_check_finds_a_pdf_compiled_from_other_latex(cli, tmp_path, problem_file):
    problem = problem_file(SOFTMAX, "softmax.toml")
    assert cli("build", "softmax.toml", "-o", "out", "-f", "md,pdf").exit_code == 0
    assert cli("check", "softmax.toml", "-o", "out", "-f", "md,pdf").exit_code == 0
    problem.write_text(SOFTMAX.replace('title = "', 'title = "Week 2: '), encoding="utf-8")
    assert cli("build", "softmax.toml", "-o", "out", "-f", "md").exit_code == 0   # md only
    result = cli("check", "softmax.toml", "-o", "out", "-f", "md,pdf")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "out/softmax.pdf: stale (differs from a fresh build) of softmax.toml",
        "current 0, stale 1, missing 0, failed 0",
        "to bring them up to date, run: derivgen build softmax.toml -o out --format md,pdf"]


@pytest.mark.parametrize("tex", [
    r"\input{/etc/hostname}",                          # read by absolute path
    r"\input{../../../../../../../etc/hostname}",       # read by climbing out
    r"\immediate\openout5=TMP/escape.txt \immediate\write5{x}",            # write outside
    r"\immediate\openout5=.hidden \immediate\write5{x}",                      # a dot file
])
def test_tex_reads_and_writes_nothing_outside_its_job(cli, tmp_path, problem_file, tex):
    """Templates may come from strangers: TeX runs confined (openin_any/openout_any=p)."""
    problem_file(SOFTMAX, "softmax.toml")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "report.tex.j2").write_text(
        '((* extends "base.tex.j2" *))\n((* block summary *))\n'
        + tex.replace("TMP", str(tmp_path)) + '\n((* endblock *))\n')
    result = cli("build", "softmax.toml", "-o", "out", "-f", "pdf", "--templates", "mine")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: softmax.toml: pdflatex failed: ! ")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out" / "softmax.pdf").exists()
    assert not (tmp_path / "escape.txt").exists()


def pdf_text(pdf: bytes) -> bytes:
    """A PDF's bytes with every Flate stream inflated (fonts sit in compressed object
    streams)."""
    inflated = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            inflated.append(zlib.decompressobj().decompress(m.group(1)))
        except zlib.error:
            pass
    return b"\n".join(inflated)


def test_reports_use_outline_fonts_and_handouts_link_their_contents(cli, tmp_path, problem_file):
    if not shutil.which("kpsewhich") or subprocess.run(
            ["kpsewhich", "lmodern.sty"], capture_output=True).returncode:
        missing_tool("Latin Modern is not installed (Debian: apt-get install lmodern)")
    problem_file(SOFTMAX, "softmax.toml")
    assert cli("build", "softmax.toml", "-o", "out", "-f", "pdf").exit_code == 0
    report = pdf_text((tmp_path / "out" / "softmax.pdf").read_bytes())
    assert b"LMRoman10-Regular" in report
    assert not re.search(rb"/Subtype ?/Type3", report)
    assert cli("handout", "softmax.toml", "-o", "out/week1", "--title", "Week 1",
               "-f", "pdf").exit_code == 0
    handout = pdf_text((tmp_path / "out" / "week1.pdf").read_bytes())
    assert not re.search(rb"/Subtype ?/Type3", handout)
    assert re.search(rb"/Subtype ?/Link", handout)       # the contents link to the problems
