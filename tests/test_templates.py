"""Report templates as a user meets them: overriding one block, where templates
are looked up, what a broken or hostile template gives, the --format option,
and the ``tex`` filter that puts problem-file text into LaTeX."""

import pytest

import derivgen.render
from conftest import SOFTMAX
from derivgen.render import tex_text

MD_SECTIONS = ["## Setup", "## Notation", "## Forward pass", "## Element-wise view",
               "## Backward pass", "## Results", "## Verification"]
TEX_SECTIONS = [r"\section*{Setup}", r"\section*{Notation}", r"\section*{Forward pass}",
                r"\section*{Element-wise view}", r"\section*{Backward pass}", r"\section*{Results}",
                r"\section*{Verification}"]


@pytest.fixture
def softmax(problem_file):
    return problem_file(SOFTMAX, "softmax.toml")


def template(folder, name: str, text: str):
    """Write one template file into ``folder`` (made if need be)."""
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def summary_override(text: str) -> str:
    return f'{{% extends "base.md.j2" %}}\n{{% block summary %}}\n{text}\n{{% endblock %}}\n'


def assert_nothing_written(out):
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == []


# --- overriding one block -------------------------------------------------------------

def test_a_markdown_template_overrides_one_block_and_keeps_the_rest(cli, tmp_path, softmax):
    template(tmp_path / "mine", "report.md.j2",
             summary_override("Our own summary of {{ title }}."))
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md", "--templates", "mine")
    assert result.exit_code == 0, result.stderr
    md = (tmp_path / "out" / "softmax.md").read_text(encoding="utf-8")
    assert "Our own summary of Softmax regression: gradient of the cross-entropy." in md
    assert "A linear classifier with a column-wise softmax" not in md   # the built-in summary
    assert md.startswith("# Softmax regression: gradient of the cross-entropy\n")
    assert [line for line in md.splitlines() if line.startswith("## ")] == MD_SECTIONS


def test_a_latex_template_overrides_one_block_and_keeps_the_rest(cli, tmp_path, softmax):
    template(tmp_path / "mine", "report.tex.j2",
             '((* extends "base.tex.j2" *))\n((* block summary *))\n'
             'Our own summary of ((( title | tex ))).\n((* endblock *))\n')
    result = cli("build", "softmax.toml", "-o", "out", "-f", "tex", "--templates", "mine")
    assert result.exit_code == 0, result.stderr
    tex = (tmp_path / "out" / "softmax.tex").read_text(encoding="utf-8")
    assert "Our own summary of Softmax regression: gradient of the cross-entropy." in tex
    assert "A linear classifier with a column-wise softmax" not in tex
    assert [line for line in tex.splitlines() if line.startswith(r"\section*")] == TEX_SECTIONS
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")


# --- where templates are found --------------------------------------------------------

def test_the_templates_folder_of_the_current_directory_is_used(cli, tmp_path, softmax):
    template(tmp_path / "templates", "report.md.j2", summary_override("From the project folder."))
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md")
    assert result.exit_code == 0, result.stderr
    md = (tmp_path / "out" / "softmax.md").read_text(encoding="utf-8")
    assert "From the project folder." in md
    assert [line for line in md.splitlines() if line.startswith("## ")] == MD_SECTIONS


def test_the_templates_option_wins_over_the_current_directory(cli, tmp_path, softmax):
    template(tmp_path / "templates", "report.md.j2", summary_override("From the project folder."))
    template(tmp_path / "mine", "report.md.j2", summary_override("From --templates."))
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md", "--templates", "mine")
    assert result.exit_code == 0, result.stderr
    md = (tmp_path / "out" / "softmax.md").read_text(encoding="utf-8")
    assert "From --templates." in md and "From the project folder." not in md


def test_a_templates_folder_that_does_not_exist_is_a_usage_error(cli, tmp_path, softmax):
    result = cli("build", "softmax.toml", "-o", "out", "--templates", "nowhere")
    assert result.exit_code == 2
    assert "'nowhere' does not exist" in result.stderr
    assert_nothing_written(tmp_path / "out")


# --- broken and hostile templates: exit 2, one line with file and line, nothing written -

def test_a_misspelt_name_is_one_line_with_the_template_file_and_line(cli, tmp_path, softmax):
    template(tmp_path / "mine", "report.md.j2", summary_override("About {{ titel }}."))
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md,tex,json", "--templates", "mine")
    assert result.exit_code == 2
    assert result.stderr == "error: mine/report.md.j2:3: template error: 'titel' is undefined\n"
    assert result.stdout == ""
    assert_nothing_written(tmp_path / "out")          # not even the .json or .tex


def test_a_misspelt_name_in_a_latex_template_names_its_file_and_line(cli, tmp_path, softmax):
    template(tmp_path / "mine", "report.tex.j2",
             '((* extends "base.tex.j2" *))\n((* block summary *))\n((( titel )))\n'
             '((* endblock *))\n')
    result = cli("build", "softmax.toml", "-o", "out", "--templates", "mine")
    assert result.exit_code == 2
    assert result.stderr == "error: mine/report.tex.j2:3: template error: 'titel' is undefined\n"
    assert_nothing_written(tmp_path / "out")


def test_a_template_syntax_error_is_one_line_with_file_and_line(cli, tmp_path, softmax):
    template(tmp_path / "mine", "report.md.j2",
             '{% extends "base.md.j2" %}\n{% block summary %}\n{% for x in %}\n{% endblock %}\n')
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md,json", "--templates", "mine")
    assert result.exit_code == 2
    assert result.stderr == ("error: mine/report.md.j2:3: template syntax: "
                             "Expected an expression, got 'end of statement block'\n")
    assert_nothing_written(tmp_path / "out")


@pytest.mark.parametrize("expression", ["title.__class__.__mro__", "cycler.__init__.__globals__"])
def test_the_sandbox_refuses_python_internals(cli, tmp_path, softmax, expression):
    template(tmp_path / "mine", "report.md.j2", summary_override(f"{{{{ {expression} }}}}"))
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md,json", "--templates", "mine")
    assert result.exit_code == 2
    attribute, owner = expression.split(".")[1], "str" if expression.startswith("title") else "type"
    assert result.stderr == (f"error: mine/report.md.j2:3: template error: access to attribute "
                             f"'{attribute}' of '{owner}' object is unsafe.\n")
    assert_nothing_written(tmp_path / "out")


@pytest.mark.parametrize("expression", ["1 // 0", "range(10**9) | list | length"])
def test_a_template_that_fails_while_running_is_the_users_error(cli, tmp_path, softmax,
                                                                expression):
    template(tmp_path / "mine", "report.md.j2", summary_override(f"{{{{ {expression} }}}}"))
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md,json", "--templates", "mine")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: mine/report.md.j2:3: template error: ")
    assert len(result.stderr.splitlines()) == 1 and "internal error" not in result.stderr
    assert_nothing_written(tmp_path / "out")


def test_a_missing_parent_template_names_the_line_that_asks_for_it(cli, tmp_path, softmax):
    template(tmp_path / "mine", "report.md.j2", '{% extends "bsae.md.j2" %}\n')
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md", "--templates", "mine")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: mine/report.md.j2:1: ")
    assert "bsae.md.j2" in result.stderr
    assert_nothing_written(tmp_path / "out")


# --- --format -------------------------------------------------------------------------

@pytest.mark.parametrize("formats, written, listed", [
    ("md", ["softmax.md"], "out/softmax.md"),
    ("json,md", ["softmax.json", "softmax.md"], "out/softmax.md, out/softmax.json")])
def test_format_writes_just_the_formats_asked_for(cli, tmp_path, softmax, formats, written, listed):
    result = cli("build", "softmax.toml", "-o", "out", "-f", formats)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".derivgen.json", *written]
    assert result.stdout.endswith(f" -> {listed}\n")


@pytest.mark.parametrize("formats, named", [("docx", "docx"), ("md,docx", "docx"),
                                            (",", "(none)")])
def test_an_unknown_format_is_a_usage_error_naming_the_valid_ones(cli, tmp_path, softmax,
                                                                  formats, named):
    result = cli("build", "softmax.toml", "-o", "out", "-f", formats)
    assert result.exit_code == 2
    assert result.stderr == (f"error: Invalid value for '-f' / '--format': unknown format "
                             f"{named}; choose from md, tex, json, pdf, html, py, torch (see: derivgen build "
                             "--help)\n")
    assert_nothing_written(tmp_path / "out")


@pytest.mark.parametrize("no_pdflatex", ["which", "path"])
def test_pdf_without_pdflatex_is_one_line_and_writes_nothing(cli, tmp_path, softmax, monkeypatch,
                                                             no_pdflatex):
    if no_pdflatex == "which":
        monkeypatch.setattr(derivgen.render.shutil, "which", lambda name, *a, **k: None)
    else:
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = cli("build", "softmax.toml", "-o", "out", "-f", "md,tex,json,pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: softmax.toml: --format pdf needs pdflatex, which is not installed (Debian: apt-get install "
        "texlive-latex-base texlive-latex-recommended)\n")
    assert_nothing_written(tmp_path / "out")


# --- the tex filter -------------------------------------------------------------------

@pytest.mark.parametrize("text, tex", [
    (r"\ { } $ & # ^ _ % ~",
     r"\textbackslash{} \{ \} \$ \& \# \textasciicircum{} \_ \% \textasciitilde{}"),
    ("50% of x_1 & y#2 cost ~5$",
     r"50\% of x\_1 \& y\#2 cost \textasciitilde{}5\$"),
    ("plain words stay", "plain words stay"),
    ("**bold**", r"\textbf{bold}"),
    ("*em*", r"\emph{em}"),
    ("`code`", r"\texttt{code}"),
    ("**bold**, *em* and `code`", r"\textbf{bold}, \emph{em} and \texttt{code}"),
    ("*row_sum*", r"\emph{row\_sum}"),
    ("`a_b{c}`", r"\texttt{a\_b\{c\}}"),
    ("the loss is $x^2$ here", "the loss is $x^2$ here"),
    (r"safe $\frac{a_1}{b}$ math", r"safe $\frac{a_1}{b}$ math"),
    (r"read $\input{/etc/passwd}$ now",
     r"read \$\textbackslash{}input\{/etc/passwd\}\$ now"),
    (r"$\write18{rm -rf x}$", r"\$\textbackslash{}write18\{rm -rf x\}\$"),
    ("$a}{b$", r"\$a\}\{b\$"),
    (r"$\pdfobj file{/etc/passwd}$", r"\$\textbackslash{}pdfobj file\{/etc/passwd\}\$"),
    ("$^^5cinput x$", r"\$\textasciicircum{}\textasciicircum{}5cinput x\$"),
])
def test_tex_text(text, tex):
    assert tex_text(text) == tex


def test_tex_text_keeps_code_literal():
    assert tex_text("`x*y*z`") == r"\texttt{x*y*z}"
