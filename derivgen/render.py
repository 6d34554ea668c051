"""Reports through jinja2 templates, and PDFs through pdflatex.

Templates are looked up in order: the folder given with ``--templates``, the
``templates/`` folder of the directory derivgen runs in, then derivgen's own
(:func:`derivgen.resources.builtin_templates`). They run in jinja2's sandbox
with ``StrictUndefined``: a misspelt name is an error naming the template and
line, not an empty string. The LaTeX templates use ``((* *))``, ``((( )))``
and ``((# #))`` as delimiters, which do not collide with TeX's braces.
"""

from __future__ import annotations

import hashlib
import os
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
from .latex import unsafe_tex
from .resources import builtin_templates

TEMPLATES = {"md": "report.md.j2", "tex": "report.tex.j2", "html": "report.html.j2"}
_TEX_DELIMITERS = dict(block_start_string="((*", block_end_string="*))",
                       variable_start_string="(((", variable_end_string=")))",
                       comment_start_string="((#", comment_end_string="#))")
# Characters outside what pdflatex's utf8 input and T1 fonts typeset, as TeX: the
# Unicode that derivgen's own texts and problem authors write (≥ in an assumption,
# σ in a description). Anything else is shown by its code point rather than
# stopping pdflatex.
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
          "rho varsigma sigma tau upsilon phi chi psi omega").split()     # U+03B1 to U+03C9
_MATH_COMMANDS = {chr(0x3B1 + i): f"\\{name}" for i, name in enumerate(_GREEK)} | {
    "ο": "o", "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi",
    "Π": r"\Pi", "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    "ϵ": r"\epsilon", "ϕ": r"\phi", "≥": r"\geq", "≤": r"\leq", "≠": r"\neq", "≈": r"\approx",
    "≡": r"\equiv", "∼": r"\sim", "∝": r"\propto", "×": r"\times", "÷": r"\div", "·": r"\cdot",
    "⋅": r"\cdot", "±": r"\pm", "∓": r"\mp", "−": "-", "→": r"\to", "←": r"\leftarrow",
    "↦": r"\mapsto", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow", "∞": r"\infty",
    "∂": r"\partial", "∇": r"\nabla", "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "√": r"\surd",
    "∈": r"\in", "∉": r"\notin", "⊂": r"\subset", "⊆": r"\subseteq", "∀": r"\forall",
    "∃": r"\exists", "∘": r"\circ", "⊙": r"\odot", "⊗": r"\otimes", "⊕": r"\oplus",
    "⊘": r"\oslash", "‖": r"\|", "⟨": r"\langle", "⟩": r"\rangle", "∣": r"\mid", "ℓ": r"\ell",
    "′": "'", "∅": r"\emptyset", "∧": r"\wedge", "∨": r"\vee", "¬": r"\neg", "⊤": r"\top",
    "ᵀ": r"^{\top}", "⁻": "^{-}", "ℝ": r"\mathbb{R}", "𝟏": r"\mathbf{1}", "≔": ":=",
} | {c: f"^{{{d}}}" for d, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")} | {
    c: f"_{{{d}}}" for d, c in enumerate("₀₁₂₃₄₅₆₇₈₉")}
_UNICODE_TEX = {c: f"\\ensuremath{{{tex}}}" for c, tex in _MATH_COMMANDS.items()} | {"…": r"\dots{}"}
# what utf8 input with T1 and TS1 fonts typesets (t1enc.dfu, ts1enc.dfu): ASCII,
# Latin-1 and Latin Extended-A but for a few letters, dashes and curly quotes
_TEXT_SAFE = frozenset("\t\n" + "".join(map(chr, [*range(0x20, 0x7F), *range(0xA0, 0x180)]))
                       + "–—‘’“”") - frozenset("¸ĦħĸĿŀŉŦŧſ")
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
        keep_trailing_newline=True, autoescape=fmt == "html",
        **(_TEX_DELIMITERS if fmt == "tex" else {}))
    env.filters["tex"] = tex_text
    env.filters["md"] = md_text
    env.filters["md_line"] = md_line
    return env


def render(context: dict, fmt: str, user_dir: str | Path | None = None) -> str:
    with template_errors(user_dir):
        text = environment(fmt, user_dir).get_template(TEMPLATES[fmt]).render(**context)
    return markdown_blocks(text) if fmt == "md" else text


def page(markdown: str, title: str, katex: Path | None = None,
         user_dir: str | Path | None = None) -> str:
    """Markdown (a report, a handout) as a standalone HTML page (report.html.j2), with
    KaTeX inlined from the folder ``katex``, or else from the pinned CDN."""
    from .html import katex_assets, page_context
    return render(page_context(markdown, title, katex_assets(katex)), "html", user_dir)


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


def _pieces(text: str) -> Iterator[tuple[str, str]]:
    """Text from a problem file as ("math", ...), ("code", ...) and ("text", ...) pieces:
    $math$ that passes the whitelist stays math; `code` is literal; the rest is text."""
    for part in re.split(r"(\$[^$]+\$|`[^`]+`)", text):
        if len(part) > 1 and part[0] == part[-1] == "$" and not unsafe_tex(part[1:-1]):
            yield "math", part
        elif len(part) > 1 and part[0] == part[-1] == "`":
            yield "code", part[1:-1]
        elif part:
            yield "text", part


def tex_text(text: str) -> str:
    """Plain or Markdown text from a problem file, as LaTeX: special characters
    escaped, **bold**, *emphasis* and `code` converted, $math$ kept when it is safe."""
    out = []
    for kind, part in _pieces(text):
        if kind == "math":
            out.append(part)
            continue
        escaped = "".join(map(_tex_char, part))
        if kind == "code":
            out.append(f"\\texttt{{{escaped}}}")         # code is literal: no emphasis
        else:
            escaped = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", escaped)
            out.append(re.sub(r"\*(.+?)\*", r"\\emph{\1}", escaped))
    return "".join(out)


# Markdown and HTML that text from a problem file must not start: raw HTML, links
# and images, and block structure at the start of a line (headings, lists, quotes,
# rules, indented code). **bold**, *emphasis*, `code` and $math$ stay what they are.
_MD_ESCAPES = {"\\": "\\\\", "<": "&lt;", ">": "&gt;", "&": "&amp;", "[": "\\[", "]": "\\]",
               "_": "\\_", "$": "\\$", "|": "\\|", "~": "\\~", "#": "\\#"}
_MD_BLOCK_STARTS = [(re.compile(r"^([-+*])(?=[ \t]|$)", re.M), r"\\\1"),       # list items
                    (re.compile(r"^(\d+)([.)])(?=[ \t]|$)", re.M), r"\1\\\2"),  # numbered
                    (re.compile(r"^(?=[=-]+[ \t]*$)", re.M), "\\\\")]         # rules, setext


def md_text(text: str) -> str:
    """Markdown text from a problem file (a summary), safe to put in a report: its
    lines and paragraphs kept, anything else that would be structure or HTML escaped."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text.replace("\r\n", "\n"))  # \r ends lines too
    out = []
    for kind, part in _pieces(text):
        if kind == "math":
            out.append(re.sub(r"<(?=\S)", "< ", part))     # "<b" in math is not an HTML tag
        elif kind == "code":
            out.append(f"`{part}`")
        else:
            out.append("".join(_MD_ESCAPES.get(c, c) for c in part))
    text = "\n".join(line.lstrip() for line in "".join(out).split("\n"))   # no indented code
    for pattern, escaped in _MD_BLOCK_STARTS:
        text = pattern.sub(escaped, text)
    return text


def md_line(text: str) -> str:
    """:func:`md_text` on one line (a title, a table cell): line breaks become spaces."""
    return md_text(" ".join(text.split()))


def _tex_char(c: str) -> str:
    if c in _TEX_SPECIALS:
        return _TEX_SPECIALS[c]
    if c in _UNICODE_TEX:
        return _UNICODE_TEX[c]
    return c if c in _TEXT_SAFE else f"[U+{ord(c):04X}]"


JOB = "report"           # the only file name pdflatex is given: never one from user text
MAX_RUNS = 4             # pdflatex passes: cross-references and longtable widths settle in 2-3
RUN_SECONDS = 120
# The environment of every pdflatex run. SOURCE_DATE_EPOCH (honoured when the
# user sets it) fixes the dates and the /ID, so the same source gives the same
# bytes; openin_any/openout_any=p keep TeX's reads and writes inside the job's
# folder and TeX's own tree: no absolute paths, no "..", no dot files.
_TEX_ENVIRONMENT = {"FORCE_SOURCE_DATE": "1", "openin_any": "p", "openout_any": "p",
                    "shell_escape": "f"}


def source_stamp(tex_source: str) -> bytes:
    """What a PDF's metadata says of the LaTeX it was compiled from (its SHA-256)."""
    return b"/DerivgenSource (" + hashlib.sha256(tex_source.encode()).hexdigest().encode() + b")"


def compiled_from(pdf_bytes: bytes, tex_source: str) -> bool:
    """Whether a PDF that derivgen wrote was compiled from ``tex_source``."""
    return source_stamp(tex_source) in pdf_bytes


def pdf(tex_source: str) -> bytes:
    """Compile a LaTeX document with pdflatex, in a scratch folder, with shell escape
    off; the PDF's bytes, the same for the same source and TeX Live."""
    pdflatex = shutil.which("pdflatex")
    if not pdflatex:
        raise OutputError("--format pdf needs pdflatex, which is not installed (Debian: "
                          "apt-get install texlive-latex-base texlive-latex-recommended)")
    stamp = source_stamp(tex_source).decode()
    env = {**os.environ, **_TEX_ENVIRONMENT,
           "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0")}
    command = [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
               f"{JOB}.tex"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / f"{JOB}.tex").write_text(f"\\pdfinfo{{{stamp}}}\n{tex_source}", encoding="utf-8")
        for _ in range(MAX_RUNS):
            try:
                done = subprocess.run(command, cwd=folder, env=env, capture_output=True,
                                      stdin=subprocess.DEVNULL, timeout=RUN_SECONDS)
            except subprocess.TimeoutExpired:
                raise OutputError(f"pdflatex took more than {RUN_SECONDS} s") from None
            log_file = folder / f"{JOB}.log"
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            if done.returncode:
                first = next((line for line in log.splitlines() if line.startswith("!")),
                             "see its log")
                raise OutputError(f"pdflatex failed: {first}")
            if "Rerun" not in log:
                break
        return (folder / f"{JOB}.pdf").read_bytes()
