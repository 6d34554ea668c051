"""Reports through jinja2 templates, and PDFs through pdflatex.

Templates are looked up in order: the folder given with ``--templates``, the
``templates/`` folder of the directory derivgen runs in, then derivgen's own
(:func:`derivgen.resources.builtin_templates`). They run in jinja2's sandbox
with ``StrictUndefined``: a misspelt name is an error naming the template and
line, not an empty string. The LaTeX templates use ``((* *))``, ``((( )))``
and ``((# #))`` as delimiters, which do not collide with TeX's braces.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .errors import OutputError, TemplateError
from .problem import latex_problem
from .resources import builtin_templates

TEMPLATES = {"md": "report.md.j2", "tex": "report.tex.j2"}
_TEX_DELIMITERS = dict(block_start_string="((*", block_end_string="*))",
                       variable_start_string="(((", variable_end_string=")))",
                       comment_start_string="((#", comment_end_string="#))")
_TEX_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                 "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%",
                 "~": r"\textasciitilde{}"}


def search_path(user_dir: str | Path | None = None) -> list[Path]:
    dirs = [Path(user_dir)] if user_dir else []
    dirs += [Path.cwd() / "templates", builtin_templates()]
    unique: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def environment(fmt: str, user_dir: str | Path | None = None) -> jinja2.Environment:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(d) for d in search_path(user_dir)]),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, autoescape=False,
        **(_TEX_DELIMITERS if fmt == "tex" else {}))
    env.filters["tex"] = tex_text
    env.filters["cell"] = markdown_cell
    return env


def render(context: dict, fmt: str, user_dir: str | Path | None = None) -> str:
    with template_errors(user_dir):
        text = environment(fmt, user_dir).get_template(TEMPLATES[fmt]).render(**context)
    return markdown_blocks(text) if fmt == "md" else text


@contextmanager
def template_errors(user_dir: str | Path | None = None) -> Iterator[None]:
    """jinja2's errors as :class:`TemplateError`, with the template's file and line."""
    try:
        yield
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"template syntax: {e.message}", file=e.filename or e.name,
                            line=e.lineno) from None
    except jinja2.TemplateNotFound as e:
        file, line = _template_frame(e)             # where the extends or include stands
        raise TemplateError(f"template {e.name} not found in "
                            + ", ".join(map(str, search_path(user_dir))), file=file,
                            line=line) from None
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError) as e:
        file, line = _template_frame(e)
        raise TemplateError(f"template error: {e}", file=file, line=line) from None
    except TemplateError:
        raise
    except Exception as e:              # anything a template's own expressions can raise
        file, line = _template_frame(e)
        raise TemplateError(f"template error: {type(e).__name__}: {e}", file=file,
                            line=line) from None


def _template_frame(error: BaseException) -> tuple[str | None, int | None]:
    """The template file and line that raised ``error`` (jinja2 puts them in the traceback)."""
    found = (None, None)
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.endswith(".j2"):
            found = (frame.filename, frame.lineno)
    return found


def markdown_blocks(text: str) -> str:
    """Markdown with one blank line between blocks of different kinds (headings,
    tables, lists, $$ display math $$, paragraphs), which renderers need and
    template whitespace control tends to remove."""
    out: list[str] = []
    previous, in_math = None, False
    for line in text.splitlines():
        stripped = line.strip()
        if in_math:
            out.append(line)
            in_math = stripped != "$$"
            continue
        if not stripped:
            if out and out[-1]:
                out.append("")
            previous = None
            continue
        kind = ("math" if stripped == "$$" else "heading" if stripped.startswith("#") else
                "table" if stripped.startswith("|") else "item" if stripped.startswith("- ")
                else "text")
        if previous and (kind != previous or kind in ("heading", "math")) and out[-1]:
            out.append("")
        out.append(line)
        previous, in_math = kind, kind == "math"
    return "\n".join(out).strip("\n") + "\n"


def markdown_cell(text: str) -> str:
    """Text for one cell of a Markdown table: one line, its pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def tex_text(text: str) -> str:
    """Plain or Markdown text from a problem file, as LaTeX: special characters
    escaped, **bold**, *emphasis* and `code` converted, $math$ kept when it is safe."""
    out = []
    for part in re.split(r"(\$[^$]+\$|`[^`]+`)", text):
        if part.startswith("$") and part.endswith("$") and len(part) > 1 \
                and not latex_problem(part[1:-1]):
            out.append(part)
            continue
        escaped = "".join(_TEX_SPECIALS.get(c, c) for c in part)
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"\\texttt{{{escaped[1:-1]}}}")         # code is literal: no emphasis
            continue
        escaped = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", escaped)
        escaped = re.sub(r"\*(.+?)\*", r"\\emph{\1}", escaped)
        out.append(escaped)
    return "".join(out)


def pdf(tex_source: str, name: str) -> bytes:
    """Compile a LaTeX document with latexmk (or pdflatex twice); the PDF's bytes."""
    latexmk, pdflatex = shutil.which("latexmk"), shutil.which("pdflatex")
    if not pdflatex:
        raise OutputError("--format pdf needs pdflatex, which is not installed (Debian: "
                          "apt-get install texlive-latex-base texlive-latex-recommended latexmk)")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / f"{name}.tex").write_text(tex_source, encoding="utf-8")
        # -no-shell-escape: a report never needs to run programs
        flags = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
        runs = [[latexmk, "-pdf", "-quiet", *[f"-pdflatex=pdflatex {' '.join(flags)}"],
                 f"{name}.tex"]] if latexmk else [[pdflatex, *flags, f"{name}.tex"]] * 2
        for command in runs:
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=300)
            if done.returncode:
                log = Path(tmp) / f"{name}.log"
                lines = log.read_text(errors="replace").splitlines() if log.exists() else []
                first = next((line for line in lines if line.startswith("!")), "see its log")
                raise OutputError(f"pdflatex failed on {name}.tex: {first}")
        return (Path(tmp) / f"{name}.pdf").read_bytes()
