"""The reports derivgen writes for the gallery, checked by the tools that read them:
every problem builds, every .tex compiles with pdflatex, and every math fragment of
every .md renders with KaTeX (as a Markdown site would show it).

pdflatex, node and KaTeX (installed by .ci/run into .ci/node, or found at
$KATEX_PATH) are outside Python: when one is missing these tests skip, saying
which, unless DERIVGEN_REQUIRE_TOOLS is set (as .ci/run sets it), when they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import traceback
from pathlib import Path

import pytest

from derivgen.api import build

ROOT = Path(__file__).resolve().parent.parent
GALLERY = sorted((ROOT / "problems").glob("*.toml"))
NAMES = [p.stem for p in GALLERY]
KATEX_CHECK = ROOT / "tests" / "katex_check.mjs"
PDFLATEX_FLAGS = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
RERUN = re.compile(r"Rerun to get|Rerun LaTeX|Label\(s\) may have changed")
MIN_FRAGMENTS = 20


def missing_tool(reason: str):
    """Skip, or fail when DERIVGEN_REQUIRE_TOOLS is set (as in CI)."""
    if os.environ.get("DERIVGEN_REQUIRE_TOOLS"):
        pytest.fail(f"{reason} (and DERIVGEN_REQUIRE_TOOLS is set)", pytrace=False)
    pytest.skip(reason)


def katex_path() -> Path:
    return Path(os.environ.get("KATEX_PATH") or ROOT / ".ci" / "node" / "node_modules" / "katex")


def describe(error: BaseException) -> str:
    """An exception as one line, with the innermost derivgen frame it came from."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "derivgen" in f.filename]
    if not frames:
        return f"{type(error).__name__}: {error}"
    last = frames[-1]
    where = f"{Path(last.filename).name}:{last.lineno} in {last.name}"
    return f"{type(error).__name__}: {error} (at {where})"


# --- building the gallery ------------------------------------------------------------

@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path | str]:
    """Each gallery problem built once into one folder, as md and tex: by name, the
    folder holding NAME.md and NAME.tex, or why it was not built. One problem at a
    time, so that an internal error (which build lets through) costs only that one."""
    out = tmp_path_factory.mktemp("reports")
    built: dict[str, Path | str] = {}
    for path in GALLERY:
        try:
            [outcome] = build([path], out_dir=out, formats=["md", "tex"])
        except Exception as error:                      # an internal error: a bug
            built[path.stem] = f"build raised {describe(error)}"
            continue
        if outcome.error is not None:
            built[path.stem] = f"build refused it: {outcome.error}"
        elif {p.name for p in outcome.written} != {f"{path.stem}.md", f"{path.stem}.tex"}:
            built[path.stem] = f"build wrote {[p.name for p in outcome.written]}"
        else:
            built[path.stem] = out
    return built


def report(reports, name: str, suffix: str) -> Path:
    where = reports[name]
    if isinstance(where, str):
        pytest.skip(f"{name} was not built (see test_gallery_problem_builds[{name}])")
    return where / f"{name}.{suffix}"


def test_the_gallery_is_there():
    assert len(GALLERY) >= 20, GALLERY


@pytest.mark.parametrize("name", NAMES)
def test_gallery_problem_builds(reports, name):
    assert not isinstance(reports[name], str), f"{name}: {reports[name]}"


# --- pdflatex --------------------------------------------------------------------------

def compile_tex(tex: Path, workdir: Path, twice: bool = False) -> tuple[int, str, str]:
    """Compile with pdflatex in workdir (twice when the log asks for a rerun, or when
    ``twice``, as a table of contents needs): the exit status, the log and pdflatex's output."""
    pdflatex = shutil.which("pdflatex")
    if not pdflatex:
        missing_tool("pdflatex is not installed (Debian: apt-get install "
                     "texlive-latex-base texlive-latex-recommended)")
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(tex, workdir / tex.name)
    # long, unwrapped log lines, so that each error shows the source it stopped at
    env = os.environ | {"max_print_line": "10000", "error_line": "254",
                        "half_error_line": "238"}
    for _ in range(2):
        done = subprocess.run([pdflatex, *PDFLATEX_FLAGS, tex.name], cwd=workdir, env=env,
                              capture_output=True, text=True, errors="replace",
                              stdin=subprocess.DEVNULL, timeout=300)
        log_file = workdir / tex.with_suffix(".log").name
        log = log_file.read_text(errors="replace") if log_file.exists() else ""
        if done.returncode or not (twice or RERUN.search(log)):
            break
    return done.returncode, log, done.stdout


def log_errors(log: str) -> list[str]:
    """Each error of a pdflatex log, with the lines after it up to its l.NNN line."""
    lines = log.splitlines()
    errors, seen = [], -1
    for n, line in enumerate(lines):
        if n > seen and (line.startswith("! ") or "Undefined control sequence" in line
                         or "Missing $ inserted" in line):
            context = [line]
            for seen, following in enumerate(lines[n + 1:n + 8], n + 1):
                context.append(following)
                if re.match(r"l\.\d+\b", following):
                    break
            errors.append("\n    ".join(context))
    return errors


@pytest.mark.parametrize("name", NAMES)
def test_tex_report_compiles_with_pdflatex(reports, name, tmp_path):
    tex = report(reports, name, "tex")
    status, log, output = compile_tex(tex, tmp_path)
    errors = log_errors(log)
    assert status == 0 and not errors, (
        f"pdflatex {' '.join(PDFLATEX_FLAGS)} {tex.name} exited {status}; errors in its log:\n  "
        + ("\n  ".join(errors) or "(none in the log; its output ends:)\n" + output[-2000:]))
    assert (tmp_path / f"{name}.pdf").stat().st_size > 0


# --- KaTeX ---------------------------------------------------------------------------

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def math_fragments(text: str, file: str) -> tuple[list[dict], list[str]]:
    """The math of a Markdown text as KaTeX fragments, and what could not be read.

    ``$$...$$`` is display math (derivgen writes each ``$$`` on a line of its own);
    ``$...$`` is inline math, within a paragraph. Fenced code blocks, code spans
    and backslash-escaped characters (``\\$``) are not math delimiters. Each
    fragment is {"source": "file:line", "tex": ..., "display": bool}."""
    # Blank out fenced code blocks, keeping the line count.
    lines, fence = text.split("\n"), None
    for n, line in enumerate(lines):
        m = FENCE.match(line)
        if fence is None and m:
            fence, lines[n] = m.group(1), ""
        elif fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = None
            lines[n] = ""
    text = "\n".join(lines)

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def closing(start: int, delimiter: str) -> int:
        """Where ``delimiter`` next occurs at or after start, skipping \\x; -1 if nowhere."""
        i = start
        while i < len(text):
            if text[i] == "\\":
                i += 2
            elif text.startswith(delimiter, i):
                return i
            else:
                i += 1
        return -1

    fragments, problems = [], []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2                                      # \$, \`, \\: not delimiters
        elif c == "`":
            run = re.match(r"`+", text[i:]).group()
            end = re.compile(rf"(?<!`){run}(?!`)").search(text, i + len(run))
            i = end.end() if end else i + len(run)
        elif text.startswith("$$", i):
            end = closing(i + 2, "$$")
            if end < 0:
                problems.append(f"{file}:{line_of(i)}: $$ is never closed")
                break
            fragments.append({"source": f"{file}:{line_of(i)}", "tex": text[i + 2:end].strip(),
                              "display": True})
            i = end + 2
        elif c == "$":
            end = closing(i + 1, "$")
            tex = text[i + 1:end] if end >= 0 else ""
            if end < 0 or re.search(r"\n[ \t]*\n", tex):
                problems.append(f"{file}:{line_of(i)}: this $ is never closed in its paragraph")
                i += 1
                continue
            if tex != tex.strip():
                problems.append(f"{file}:{line_of(i)}: ${tex}$ begins or ends with a space, so "
                                "Markdown renderers do not take it for math")
            fragments.append({"source": f"{file}:{line_of(i)}", "tex": tex, "display": False})
            i = end + 1
        else:
            i += 1
    return fragments, problems


def test_math_fragments_are_found_as_a_markdown_renderer_finds_them():
    text = "\n".join([
        r"Costs \$5, and `$not math$` nor ``a`$b$`c``; but $x_1$ and $y$.",   # 1
        "```tex",                                                               # 2
        "$inside a fence$",                                                     # 3
        "```",                                                                  # 4
        "$$",                                                                   # 5
        r"\frac{a}{b} \$",                                                      # 6
        "$$",                                                                   # 7
        r"| $\left\{ a \right\}$ | $$z$$ |",                                    # 8
        r"$a \\$ then $b$",                                                     # 9
    ])
    fragments, problems = math_fragments(text, "t.md")
    assert [(f["source"], f["tex"], f["display"]) for f in fragments] == [
        ("t.md:1", "x_1", False), ("t.md:1", "y", False),
        ("t.md:5", r"\frac{a}{b} \$", True),
        ("t.md:8", r"\left\{ a \right\}", False), ("t.md:8", "z", True),
        ("t.md:9", r"a \\", False), ("t.md:9", "b", False)]
    assert problems == []
    assert math_fragments("one $ alone\n\nand $x$", "u.md")[1] == [
        "u.md:1: this $ is never closed in its paragraph"]
    assert math_fragments("$$\nx\n", "v.md")[1] == ["v.md:1: $$ is never closed"]


def run_katex(fragments: list[dict]) -> subprocess.CompletedProcess:
    """tests/katex_check.mjs on the fragments: exit 0, or 1 with one line per failure.
    Skips (fails, with DERIVGEN_REQUIRE_TOOLS) where node or KaTeX is missing."""
    node = shutil.which("node")
    if not node:
        missing_tool("node is not installed, so KaTeX cannot be run")
    if not (katex_path() / "package.json").is_file():
        missing_tool(f"KaTeX is not installed at {katex_path()} (npm install --no-save "
                     "--prefix .ci/node katex, as .ci/run does, or set KATEX_PATH)")
    done = subprocess.run([node, str(KATEX_CHECK)], input=json.dumps(fragments),
                          capture_output=True, text=True, timeout=300,
                          env=os.environ | {"KATEX_PATH": str(katex_path())})
    if done.returncode == 2:
        missing_tool(f"KaTeX could not be run: {done.stderr.strip()}")
    return done


@pytest.fixture(scope="module")
def katex_failures(reports) -> dict[str, list[str]]:
    """Every math fragment of every built .md through KaTeX at once (one node run):
    by report name, each failure as "file:line: message" and the fragment."""
    fragments, owner = [], {}
    for name, where in reports.items():
        if isinstance(where, Path):
            md = where / f"{name}.md"
            found, _ = math_fragments(md.read_text(encoding="utf-8"), md.name)
            fragments += found
            owner |= {f["source"]: name for f in found}
    done = run_katex(fragments)
    assert done.returncode in (0, 1), f"katex_check.mjs exited {done.returncode}: {done.stderr}"
    tex_at: dict[str, list[str]] = {}
    for f in fragments:
        tex_at.setdefault(f["source"], []).append(f["tex"])
    failures: dict[str, list[str]] = {name: [] for name in reports}
    for line in done.stdout.splitlines():
        source, _, message = line.partition(": ")
        assert source in owner, f"katex_check.mjs printed an unexpected line: {line}"
        shown = " | ".join(t if len(t) <= 400 else t[:400] + " ..." for t in tex_at[source])
        failures[owner[source]].append(f"{source}: {message}\n    fragment(s) there: {shown}")
    assert done.returncode == (1 if any(failures.values()) else 0), done.stdout + done.stderr
    return failures


@pytest.mark.parametrize("name", NAMES)
def test_markdown_math_renders_with_katex(reports, katex_failures, name):
    md = report(reports, name, "md")
    _, problems = math_fragments(md.read_text(encoding="utf-8"), md.name)
    failures = problems + katex_failures[name]
    assert not failures, (f"{len(failures)} math fragment(s) of {md.name} fail:\n"
                          + "\n".join(failures))


@pytest.mark.parametrize("name", NAMES)
def test_math_extraction_finds_the_reports_math(reports, name):
    """So that the KaTeX test cannot pass by finding nothing to check."""
    md = report(reports, name, "md")
    fragments, _ = math_fragments(md.read_text(encoding="utf-8"), md.name)
    display = sum(f["display"] for f in fragments)
    assert len(fragments) > MIN_FRAGMENTS and display and len(fragments) - display, (
        f"{md.name}: only {len(fragments)} math fragments found ({display} display)")
