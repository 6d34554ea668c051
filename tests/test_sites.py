"""Course sites (issue 15, item 5): the example MkDocs and Sphinx sites of docs/sites/
build strictly with derivations embedded, a failing problem fails the build with
derivgen's message, a page cannot name a file outside the site's problems folder,
and a second build derives nothing that did not change.

The sites are copied, with problems/, into a temporary folder laid out as the
repository is (they name ../../.. as their problems folder), and built there with
``mkdocs build --strict`` and ``sphinx-build -W``; nothing is fetched.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from conftest import ROOT
from derivgen.embed import Site
from derivgen.errors import ProblemError
from derivgen.mkdocs_plugin import DerivgenPlugin
from mkdocs.exceptions import PluginError
from test_reports import run_katex

SOFTMAX_W = r"\frac{\partial L}{\partial W} = \frac{\left(A - Y\right) X^{\top}}{N}"
JACOBIAN = r"\frac{\partial a}{\partial s} = \operatorname{diag}\left(a\right) - a a^{\top}"
MESSAGE = "bad.toml:16:6: steps.A: unknown function 'softmx' (did you mean 'softmax'?)"
DERIVED = re.compile(r"derivgen: derived (.*)")


def mkdocs(config: Path, out: Path) -> subprocess.CompletedProcess:
    return run("mkdocs", "build", "--strict", "-f", config, "-d", out, cwd=config.parent)


def sphinx(source: Path, out: Path) -> subprocess.CompletedProcess:
    # --no-color: with CI set Sphinx colours its log, which the tests read
    return run("sphinx", "--no-color", "-W", "-b", "html", source, out, cwd=source)


def run(module: str, *args, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    done.output = done.stdout + done.stderr
    return done


def derived(done: subprocess.CompletedProcess) -> list[str]:
    return DERIVED.findall(done.output)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The example sites and the gallery's problems, as the repository lays them out."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(ROOT / "problems", root / "problems")
    shutil.copytree(ROOT / "docs" / "sites", root / "docs" / "sites",
                    ignore=shutil.ignore_patterns(".cache", "site", "_build"))
    return root


@pytest.fixture(scope="module")
def mkdocs_site(repo) -> dict:
    config, html = repo / "docs/sites/mkdocs/mkdocs.yml", repo / "mkdocs-html"
    return {"config": config, "html": html, "first": mkdocs(config, html)}


@pytest.fixture(scope="module")
def sphinx_site(repo) -> dict:
    source, html = repo / "docs/sites/sphinx", repo / "sphinx-html"
    return {"source": source, "html": html, "first": sphinx(source, html)}


def page(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def assert_links_resolve(html: str) -> None:
    """Every link to #x on the page has an element with id x."""
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    targets = set(re.findall(r'href="#([^"]+)"', html))
    assert targets and not targets - ids, targets - ids


# --- MkDocs ------------------------------------------------------------------------------

def test_the_mkdocs_site_builds_strictly_with_derivations_embedded(mkdocs_site):
    first, html = mkdocs_site["first"], mkdocs_site["html"]
    assert first.returncode == 0, first.output
    assert sorted(derived(first)) == ["problems/jacobian_softmax.toml",
                                      "problems/logsumexp.toml, problems/jacobian_axb.toml",
                                      "problems/softmax.toml"]
    softmax = page(html, "softmax/index.html")
    assert "<h1 id=\"softmax-regression-gradient-of-the-cross-entropy\">" in softmax
    assert re.search(r'<div class="arithmatex">\\\[\s*\\boxed\{' + re.escape(SOFTMAX_W), softmax)
    assert softmax.count('<span class="arithmatex">') > 50 and "$$" not in softmax
    assert JACOBIAN in page(html, "jacobian/index.html")
    # the page that shows the syntax shows it, in code, unexpanded
    assert '<code>{{ derivation("problems/softmax.toml") }}</code>' in page(html, "index.html")


def test_the_mkdocs_handout_contents_link_to_its_problems(mkdocs_site):
    handout = page(mkdocs_site["html"], "handout/index.html")
    for n in (1, 2):
        assert f'href="#problem-{n}"' in handout and f'id="problem-{n}"' in handout
    assert_links_resolve(handout)


def test_the_mkdocs_math_renders_with_katex_as_the_site_typesets_it(mkdocs_site):
    """What arithmatex leaves in the pages, \\(...\\) and \\[...\\], unwrapped as the
    site's javascripts/katex.js does, through KaTeX."""
    fragments = []
    for name in ("softmax", "jacobian", "handout"):
        found = re.findall(r'<(span|div) class="arithmatex">(.*?)</\1>',
                           page(mkdocs_site["html"], f"{name}/index.html"), re.S)
        fragments += [{"source": name, "tex": unescape(tex).strip()[2:-2],
                       "display": tag == "div"} for tag, tex in found]
    assert len(fragments) > 200
    done = run_katex(fragments)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_second_mkdocs_build_derives_only_what_changed(mkdocs_site, repo):
    cached = sorted((mkdocs_site["config"].parent / ".cache").rglob("*.md"))
    assert len(cached) == 3
    before = [p.stat().st_mtime_ns for p in cached]
    again = mkdocs(mkdocs_site["config"], mkdocs_site["html"])
    assert again.returncode == 0 and derived(again) == [], again.output
    assert [p.stat().st_mtime_ns for p in cached] == before
    edit(repo / "problems" / "softmax.toml")
    changed = mkdocs(mkdocs_site["config"], mkdocs_site["html"])
    assert changed.returncode == 0 and derived(changed) == ["problems/softmax.toml"]


def edit(problem: Path) -> None:
    with problem.open("a", encoding="utf-8") as f:
        f.write("\n# edited\n")


# --- Sphinx ------------------------------------------------------------------------------

def test_the_sphinx_site_builds_strictly_with_derivations_embedded(sphinx_site):
    first, html = sphinx_site["first"], sphinx_site["html"]
    assert first.returncode == 0, first.output
    assert sorted(derived(first)) == ["problems/jacobian_softmax.toml",
                                      "problems/logsumexp.toml, problems/jacobian_axb.toml",
                                      "problems/softmax.toml"]
    softmax = page(html, "softmax.html")                  # reStructuredText
    assert "<h1>Softmax regression: gradient of the cross-entropy" in softmax
    assert re.search(r'<div class="math notranslate nohighlight">\s*\\\[\s*\\boxed\{'
                     + re.escape(SOFTMAX_W), softmax)
    assert softmax.count('<span class="math notranslate nohighlight">') > 50
    assert "$$" not in softmax
    assert JACOBIAN in page(html, "jacobian.html")        # MyST Markdown
    assert "{derivation} problems/jacobian_softmax.toml" in page(html, "index.html")


def test_the_sphinx_handout_contents_link_to_its_problems(sphinx_site):
    handout = page(sphinx_site["html"], "handout.html")
    assert "<h1>Week 3: a gradient and a Jacobian" in handout
    for n in (1, 2):
        assert f'href="#problem-{n}"' in handout and f'id="problem-{n}"' in handout
    assert_links_resolve(handout)


def test_a_second_sphinx_build_derives_only_what_changed(sphinx_site, repo):
    source, html = sphinx_site["source"], sphinx_site["html"]
    again = sphinx(source, html)
    assert again.returncode == 0 and derived(again) == [], again.output
    edit(repo / "problems" / "jacobian_softmax.toml")
    changed = sphinx(source, html)
    assert changed.returncode == 0, changed.output
    assert derived(changed) == ["problems/jacobian_softmax.toml"]
    assert re.search(r"reading sources\.\.\. \[100%\] jacobian\s*$", changed.output, re.M)


# --- refusals ----------------------------------------------------------------------------

@pytest.fixture
def small(tmp_path) -> Path:
    """A one-page site of each kind, beside a failing problem and a file outside it."""
    site = tmp_path / "site"
    (site / "docs").mkdir(parents=True)
    text = (ROOT / "problems" / "softmax.toml").read_text(encoding="utf-8")
    (site / "bad.toml").write_text(text.replace("softmax(S, axis=0)", "softmx(S, axis=0)"))
    (tmp_path / "outside.toml").write_text(text)
    (site / "mkdocs.yml").write_text("site_name: small\nplugins: [derivgen]\n")
    (site / "conf.py").write_text('extensions = ["myst_parser", "derivgen.sphinx_ext"]\n'
                                  'exclude_patterns = ["docs", "html", ".cache", "_build"]\n')
    return site


def pages(site: Path, line: str) -> None:
    (site / "docs" / "index.md").write_text(f"# A page\n\n{line}\n")
    (site / "index.md").write_text(f"# A page\n\n```{{derivation}} {line}\n```\n")


@pytest.mark.parametrize("name, message", [
    ("bad.toml", MESSAGE),
    ("../outside.toml", "../outside.toml: outside the site's problems folder"),
])
def test_a_failing_or_escaping_problem_fails_the_build_with_one_line(small, name, message):
    pages(small, f'{{{{ derivation("{name}") }}}}')
    built = mkdocs(small / "mkdocs.yml", small / "html")
    assert built.returncode != 0 and f"derivgen: {message}" in built.output, built.output
    assert "Traceback" not in built.output
    pages(small, name)
    built = sphinx(small, small / "_build")
    assert built.returncode != 0 and f"ERROR: derivgen: {message}" in built.output, built.output
    assert "Traceback" not in built.output


@pytest.mark.parametrize("call", [
    "{{ derivation(problems/softmax.toml) }}", '{{ derivation(open("x")) }}',
    '{{ derivation("a.toml", "b.toml") }}', '{{ derivation("a.toml", title="T") }}',
    '{{ handout("a.toml") }}', '{{ handout("a.toml", titel="T") }}'])
def test_a_call_mkdocs_cannot_read_is_refused_before_anything_is_read(tmp_path, call):
    plugin = DerivgenPlugin()
    plugin.site = Site(tmp_path, tmp_path / "cache")
    with pytest.raises(PluginError, match="derivgen: cannot read"):
        plugin.on_page_markdown(f"# Page\n\n{call}\n", None, None, None)
    assert not (tmp_path / "cache").exists()


def test_two_reports_on_one_sphinx_page_keep_their_ids_apart(small):
    (small / "one.toml").write_text((ROOT / "problems" / "logsumexp.toml").read_text())
    (small / "index.rst").write_text("Two\n===\n\n.. derivation:: one.toml\n\n"
                                     ".. handout:: one.toml one.toml\n   :title: Twice\n")
    built = sphinx(small, small / "_build")
    assert built.returncode == 0, built.output
    html = page(small / "_build", "index.html")
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) and {"setup", "setup-2", "problem-1", "problem-2"} <= set(ids)
    assert_links_resolve(html)


def test_names_leading_out_of_the_problems_folder_are_refused(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (tmp_path / "outside.toml").write_text("")
    (root / "link.toml").symlink_to(tmp_path / "outside.toml")
    site = Site(root, tmp_path / "cache")
    for name in ("../outside.toml", str(tmp_path / "outside.toml"), "link.toml", "a/../../x"):
        with pytest.raises(ProblemError, match="outside the site's problems folder"):
            site.derivation(name)
    assert not (tmp_path / "cache").exists()
