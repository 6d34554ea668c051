"""--format html: the Markdown reader's exact output, escaping, the KaTeX it loads, and
every gallery page typeset in a real headless Chromium with no KaTeX error.

Chromium and KaTeX come from .ci/run (Debian's chromium, npm's katex); where either is
missing the browser tests skip, unless DERIVGEN_REQUIRE_TOOLS is set, when they fail.
"""

import base64
import hashlib
import json
import re
import resource
import shutil
import struct
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import ROOT
from derivgen import api
from derivgen.html import (KATEX_CDN, KATEX_INTEGRITY, KATEX_VERSION, katex_assets,
                           markdown_html, page_context)
from derivgen.render import render
from test_gallery import GALLERY, derivation
from test_reports import katex_path, missing_tool

# as the machines CI runs on need it: root (no sandbox), no GPU, a closed network
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
PHONE = (412, 915)          # a phone's viewport, in CSS pixels
SOFTMAX = str(ROOT / "problems" / "softmax.toml")


def test_blocks_and_inline_markup_read_as_html():
    text = ("# Softmax: $A$\n\nOne *word* and **Step $S$**, `x_1`, \\$5 and \\*not\\*.\n"
            "A second line.\n\n- one $a$\n  continued\n- two\n\n1. first\n2. second\n\n"
            "> quoted $q$\n\n$$\nA = \\frac{1}{2} < B\n$$\n\n```\nx < 1\n```\n")
    assert markdown_html(text) == (
        '<h1 id="softmax-a">Softmax: <span class="math">A</span></h1>\n'
        '<p>One <em>word</em> and <strong>Step <span class="math">S</span></strong>, '
        '<code>x_1</code>, $5 and *not*.\nA second line.</p>\n'
        '<ul>\n<li>one <span class="math">a</span>\ncontinued</li>\n<li>two</li>\n</ul>\n'
        '<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n'
        '<blockquote>\n<p>quoted <span class="math">q</span></p>\n</blockquote>\n'
        '<div class="math display">A = \\frac{1}{2} &lt; B</div>\n'
        '<pre><code>x &lt; 1</code></pre>')


def test_tables_read_pipes_as_github_does():
    text = "| name | norm |\n| --- | :---: |\n| $x$ | $\\|x\\|$ |\n| a \\| b |\n"
    assert markdown_html(text) == (
        '<div class="table"><table>\n<thead><tr><th>name</th><th>norm</th></tr></thead>\n'
        '<tbody>\n<tr><td><span class="math">x</span></td><td><span class="math">|x|</span>'
        '</td></tr>\n<tr><td>a | b</td><td></td></tr>\n</tbody>\n</table></div>')


def test_headings_get_unique_github_ids():
    html = markdown_html("## Step $S$\n\n## Step $S$\n\n## Results!\n\n## &lt;b&gt; &amp; a\n")
    assert re.findall(r'id="([^"]*)"', html) == ["step-s", "step-s-1", "results", "b--a"]


def test_nothing_in_the_markdown_becomes_markup():
    # how derivgen writes a problem's text in Markdown (render.md_text), and raw HTML
    text = ("&lt;script&gt;alert(1)&lt;/script&gt; <b onclick=x>bold</b> "
            "[link](javascript:alert(1)) [ok](#results) [file](<a-solutions.html>) "
            '[quote](a"b.html) $</span><script>$ &amp;lt;')
    assert markdown_html(text) == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;b onclick=x&gt;bold&lt;/b&gt; "
        '[link](javascript:alert(1)) <a href="#results">ok</a> '
        '<a href="a-solutions.html">file</a> <a href="a&quot;b.html">quote</a> '
        '<span class="math">&lt;/span&gt;&lt;script&gt;</span> &amp;lt;</p>')


def test_the_page_escapes_its_title_and_loads_the_pinned_katex():
    page = render(page_context("# T\n", "</title><script>x</script> & co", katex_assets()),
                  "html")
    assert "<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt; &amp; co</title>" in page
    assert (f'<script src="{KATEX_CDN}katex.min.js" integrity="{KATEX_INTEGRITY["katex.min.js"]}"'
            ' crossorigin="anonymous"></script>') in page
    assert f'href="{KATEX_CDN}katex.min.css" integrity="{KATEX_INTEGRITY["katex.min.css"]}"' \
        in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


@pytest.fixture(scope="module")
def katex():
    if not (katex_path() / "package.json").is_file():
        missing_tool(f"KaTeX is not installed at {katex_path()} (.ci/run installs it)")
    return katex_path()


def test_the_pinned_hashes_are_those_of_katex_files(katex):
    """The CDN serves npm's files: the same version's files here must have the hashes the
    pages pin (.ci/run installs that version)."""
    assert json.loads((katex / "package.json").read_text())["version"] == KATEX_VERSION
    for name, integrity in KATEX_INTEGRITY.items():
        digest = hashlib.sha384((katex / "dist" / name).read_bytes()).digest()
        assert integrity == "sha384-" + base64.b64encode(digest).decode()


def test_the_example_site_and_its_instructions_load_the_pinned_katex():
    for path in ("docs/sites/mkdocs/mkdocs.yml", "docs/sites/README.md"):
        found = re.findall(r"https://\S*katex\S*", (ROOT / path).read_text())
        assert found == [KATEX_CDN + "katex.min.js", KATEX_CDN + "katex.min.css"], path


def test_a_self_contained_page_fetches_nothing(katex):
    assets = katex_assets(katex)
    page = render(page_context("# T\n\n$x$\n", "T", assets), "html")
    assert page.count(assets.script) == page.count(assets.style) == 1
    # KaTeX's script holds markup in its strings: the page around it has no address
    assert not re.search(r"\b(src|href)=", page.replace(assets.script, ""))
    assert re.findall(r"url\((.{10})", assets.style) == ["data:font/"] * 20    # its fonts


def test_build_writes_a_page_and_refuses_a_folder_without_katex(cli, tmp_path):
    done = cli("build", SOFTMAX, "-o", str(tmp_path / "out"),
               "--format", "html")
    assert done.exit_code == 0, done.output
    page = (tmp_path / "out" / "softmax.html").read_text()
    assert '<h1 id="softmax-regression-gradient-of-the-cross-entropy">' in page
    assert '<span class="math">W</span>' in page
    done = cli("build", SOFTMAX, "-o", str(tmp_path / "none"),
               "--format", "html", "--self-contained", str(tmp_path))
    assert done.exit_code == 2
    assert done.output == (f"error: Invalid value for '--self-contained': no KaTeX in "
                           f"{tmp_path} (want katex.min.js and katex.min.css, as in npm's "
                           "katex package): No such file or directory (see: derivgen build "
                           "--help)\n")
    assert not (tmp_path / "none").exists()


# --- in Chromium ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    missing_tool("Chromium is not installed (.ci/run installs Debian's chromium)")


def browse(chromium, tmp_path, page: str, *args: str) -> subprocess.CompletedProcess:
    """Chromium on ``page`` (a file), with its own empty profile."""
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args,
               page]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          preexec_fn=unlimited)


def unlimited() -> None:
    """No cap on the address space, which Chromium reserves by the gigabyte: derivgen's
    command, run in this process by other tests, caps it (budget.limit_memory)."""
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


class Typeset(HTMLParser):
    """Counts in a page's DOM: derivgen's math elements, KaTeX's typeset formulas and
    KaTeX's errors (each with its message)."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.math = self.katex = 0
        self.errors: list[str] = []
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        self.math += "math" in classes
        self.katex += "katex" in classes
        if "katex-error" in classes:
            self.errors.append(attrs.get("title", ""))


def test_every_gallery_formula_typesets_in_chromium(chromium, katex, tmp_path):
    """All gallery reports on one self-contained page (one browser start, not 48): every
    formula typeset by KaTeX, none refused."""
    reports = [api.render_outputs(derivation(p.stem), formats=("md",))["md"] for p in GALLERY]
    page = tmp_path / "gallery.html"
    page.write_text(render(page_context("\n".join(reports), "gallery", katex_assets(katex)),
                           "html"))
    done = browse(chromium, tmp_path, page.as_uri(), "--dump-dom")
    assert done.returncode == 0, done.stderr
    typeset = Typeset(done.stdout)
    assert typeset.errors == []
    assert typeset.math > 5000
    assert typeset.katex == typeset.math


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_softmax_page_renders_on_a_phone(chromium, katex, cli, tmp_path):
    out = tmp_path / "out"
    done = cli("build", SOFTMAX, "-o", str(out), "--format", "html",
               "--self-contained", str(katex))
    assert done.exit_code == 0, done.output
    page = (out / "softmax.html").as_uri()
    done = browse(chromium, tmp_path, page, "--dump-dom")
    typeset = Typeset(done.stdout)
    assert (typeset.errors, typeset.math) == ([], typeset.katex)
    assert typeset.math > 150
    shot = tmp_path / "softmax.png"
    done = browse(chromium, tmp_path, page, f"--window-size={PHONE[0]},{PHONE[1]}",
                  f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr
    data = shot.read_bytes()
    assert png_size(data) == PHONE
    # a page of typeset text, not a blank one (a white 412×915 PNG is about 3 kB)
    assert len(data) > 30_000
