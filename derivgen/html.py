"""Reports and handouts as standalone HTML pages, for a browser or a phone.

A page is the Markdown document (so a user's ``report.md.j2`` shows in it too),
read by :func:`markdown_html`, a reader of just the Markdown derivgen's templates
write: headings, paragraphs, ``**bold**``, ``*emphasis*``, `` `code` ``, lists,
GitHub tables, quotes, fenced code, ``$math$`` and ``$$`` display blocks, links to
``#anchors``, to files beside the page and to http(s) addresses. Every character
of text comes out HTML-escaped and the only tags are the reader's own, so nothing
from a problem file becomes markup. Math is left as TeX in ``class="math"``
elements, typeset in the browser by KaTeX: from a pinned CDN address with
Subresource Integrity hashes (the browser refuses a changed file), or, with a
local KaTeX, inlined with its fonts so that the page works offline
(:func:`katex_assets`).
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markupsafe import Markup

from .errors import OutputError

# The KaTeX every page loads by default; .ci/run installs the same version from npm,
# and tests/test_html.py checks these hashes against that copy's files.
KATEX_VERSION = "0.19.1"
KATEX_CDN = f"https://cdn.jsdelivr.net/npm/katex@{KATEX_VERSION}/dist/"
KATEX_INTEGRITY = {
    "katex.min.css": "sha384-WwGtaC6ywCHxA5cstpj/3+xIZvTez8dq2IcBQaXRkenHZ7FVVq1ZROtURwfbtTlG",
    "katex.min.js": "sha384-a1WQdjRj162i159OYq041X6I4K8NenkrI09LlPmiHg0YOb7CR+wJOraXwK9abpnE",
}


@dataclass(frozen=True)
class Katex:
    """The markup that loads KaTeX's style (in the head) and script (at the end)."""
    style: Markup
    script: Markup


def katex_assets(local: Path | None = None) -> Katex:
    """KaTeX from the pinned CDN, or, given a local KaTeX (npm's ``katex`` package or
    its ``dist`` folder), its script and style inlined, the fonts as data URIs."""
    if local is None:
        return Katex(
            Markup('<link rel="stylesheet" href="{}" integrity="{}" crossorigin="anonymous">')
            .format(KATEX_CDN + "katex.min.css", KATEX_INTEGRITY["katex.min.css"]),
            Markup('<script src="{}" integrity="{}" crossorigin="anonymous"></script>')
            .format(KATEX_CDN + "katex.min.js", KATEX_INTEGRITY["katex.min.js"]))
    return _inlined(Path(local).resolve())


@cache
def _inlined(folder: Path) -> Katex:
    dist = folder / "dist" if (folder / "dist" / "katex.min.js").is_file() else folder
    try:
        script = (dist / "katex.min.js").read_text(encoding="utf-8")
        style = (dist / "katex.min.css").read_text(encoding="utf-8")
    except OSError as e:
        raise OutputError(f"no KaTeX in {folder} (want katex.min.js and katex.min.css, "
                          f"as in npm's katex package): {e.strerror}") from None

    def font(match: re.Match) -> str:         # woff2 only: every browser KaTeX supports reads it
        data = (dist / "fonts" / match[1]).read_bytes()
        return f"url(data:font/woff2;base64,{base64.b64encode(data).decode()}) format(\"woff2\")"
    try:
        style = re.sub(r'url\(fonts/([\w-]+\.woff2)\) format\("woff2"\)(?:,url\([^)]*\) '
                       r'format\("\w+"\))*', font, style)
    except OSError as e:
        raise OutputError(f"KaTeX in {folder} lacks its fonts: {e.filename}") from None
    # text inside <script> and <style> is not escaped: make sure it cannot end them
    if re.search(r"</(script|style)", script + style, re.I):
        raise OutputError(f"KaTeX in {folder} cannot be inlined: it contains a closing tag")
    return Katex(Markup("<style>{}</style>".format(style)),
                 Markup("<script>{}</script>".format(script)))


# --- the Markdown reader ---------------------------------------------------------------

_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)[ \t#]*$")
_ITEM = re.compile(r"([-*+]|\d+[.)])[ \t]+(.*)")
_INLINE = re.compile(r"\\([!-/:-@\[-`{-~])"            # a backslash escape: the character
                     r"|(`+)(.+?)\2"                    # code
                     r"|\$([^$]+)\$"                    # math
                     # a link to #a, a file beside (no scheme: no javascript:) or http(s)
                     r"|\[([^\]]*)\]\(<?((?:#|https?://)[^)\s<>]*|[^):\s<>]+)>?\)")


def markdown_html(text: str) -> Markup:
    """derivgen's Markdown (see the module's docstring) as HTML."""
    return Markup("\n".join(_blocks(text.splitlines(), _Ids())))


def slug(heading: str) -> str:
    """A heading's id as GitHub, MkDocs and MyST make it from plain words: lower case,
    punctuation dropped, spaces as hyphens (derivgen's own links point at such ids)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


class _Ids:
    """Heading ids (:func:`slug`), with -1, -2, ... after a repeat, as GitHub does."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, heading: str) -> str:
        id_ = slug(heading) or "section"
        count = self.seen.get(id_, 0)
        self.seen[id_] = count + 1
        return id_ if count == 0 else f"{id_}-{count}"


def _blocks(lines: list[str], ids: _Ids) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped:
            i += 1
        elif stripped == "$$":
            end = _find(lines, i + 1, lambda s: s == "$$")
            tex = "\n".join(lines[i + 1:end])
            out.append(f'<div class="math display">{html.escape(tex, quote=False)}</div>')
            i = end + 1
        elif stripped.startswith("```"):
            end = _find(lines, i + 1, lambda s: s.startswith("```"))
            code = "\n".join(lines[i + 1:end])
            out.append(f"<pre><code>{html.escape(code, quote=False)}</code></pre>")
            i = end + 1
        elif heading := _HEADING.fullmatch(stripped):
            level, title = len(heading[1]), heading[2]
            out.append(f'<h{level} id="{ids(html.unescape(title))}">{_inline(title)}</h{level}>')
            i += 1
        elif stripped.startswith("|"):
            end = _run(lines, i, lambda s: s.startswith("|"))
            out.append(_table([line.strip() for line in lines[i:end]]))
            i = end
        elif stripped.startswith(">"):
            end = _run(lines, i, lambda s: s.startswith(">"))
            quoted = [re.sub(r"^\s*> ?", "", line) for line in lines[i:end]]
            out.append("<blockquote>\n" + "\n".join(_blocks(quoted, ids)) + "\n</blockquote>")
            i = end
        elif _ITEM.fullmatch(stripped):
            i = _list(lines, i, out)
        else:
            end = _run(lines, i, lambda s: not _starts_block(s))
            out.append("<p>" + _inline("\n".join(s.strip() for s in lines[i:end])) + "</p>")
            i = end
    return out


def _find(lines: list[str], start: int, ends) -> int:
    """The index of the line that closes a block opened before ``start``."""
    return next((j for j in range(start, len(lines)) if ends(lines[j].strip())), len(lines))


def _run(lines: list[str], start: int, belongs) -> int:
    """The end of the lines from ``start`` on that are not blank and belong."""
    j = start + 1
    while j < len(lines) and lines[j].strip() and belongs(lines[j].strip()):
        j += 1
    return j


def _starts_block(stripped: str) -> bool:
    return (stripped == "$$" or stripped.startswith(("```", "|", ">"))
            or bool(_HEADING.fullmatch(stripped)) or bool(_ITEM.fullmatch(stripped)))


def _list(lines: list[str], start: int, out: list[str]) -> int:
    """A list from ``start``: items, each with the indented lines that continue it."""
    ordered = lines[start].strip()[0].isdigit()
    items: list[str] = []
    i = start
    while i < len(lines) and (item := _ITEM.fullmatch(lines[i].strip())):
        if item[1][0].isdigit() != ordered:
            break
        text = [item[2]]
        i += 1
        while i < len(lines) and lines[i].startswith((" ", "\t")) and lines[i].strip() \
                and not _ITEM.fullmatch(lines[i].strip()):
            text.append(lines[i].strip())
            i += 1
        items.append(f"<li>{_inline(chr(10).join(text))}</li>")
        while i < len(lines) and not lines[i].strip() and i + 1 < len(lines) \
                and _ITEM.fullmatch(lines[i + 1].strip()):
            i += 1                              # a loose list: blank lines between items
    tag = "ol" if ordered else "ul"
    out.append(f"<{tag}>\n" + "\n".join(items) + f"\n</{tag}>")
    return i


def _table(rows: list[str]) -> str:
    def cells(row: str) -> list[str]:
        row = row.strip()[1:]
        if row.endswith("|") and not row.endswith("\\|"):
            row = row[:-1]
        # as GitHub reads a table: \| is a | inside a cell, math included
        return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)]
    head, body = cells(rows[0]), [cells(r) for r in rows[1:]
                                  if not re.fullmatch(r"[|\s:-]+", r)]
    lines = ['<div class="table"><table>', "<thead><tr>"
             + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr></thead>", "<tbody>"]
    for row in body:
        row = (row + [""] * len(head))[:len(head)]
        lines.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>")
    return "\n".join(lines + ["</tbody>", "</table></div>"])


def _inline(text: str) -> str:
    """A line's escapes, code, math and links as HTML, then its **bold** and *emphasis*
    (which may hold math: the pieces stand in as placeholders meanwhile)."""
    pieces: list[str] = []
    text = text.replace("\0", "")             # the placeholders' own character

    def piece(match: re.Match) -> str:
        escaped, code, math, label, target = match[1], match[3], match[4], match[5], match[6]
        if escaped is not None:
            pieces.append(html.escape(escaped))
        elif code is not None:
            pieces.append(f"<code>{html.escape(code.strip())}</code>")
        elif math is not None:
            pieces.append(f'<span class="math">{html.escape(math, quote=False)}</span>')
        else:
            pieces.append(f'<a href="{html.escape(target)}">{_inline(label)}</a>')
        return f"\0{len(pieces) - 1}\0"
    # the text's &lt; &gt; &amp; (how derivgen writes <, >, & in Markdown) read once
    text = html.escape(html.unescape(_INLINE.sub(piece, text)), quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    return re.sub("\0(\\d+)\0", lambda m: pieces[int(m[1])], text)


def page_context(markdown: str, title: str, katex: Katex) -> dict:
    """What report.html.j2 receives: the report as HTML, its title (plain text, which
    the template escapes), KaTeX's style and script, and the script that typesets."""
    return {"content": markdown_html(markdown), "title": title, "katex": katex,
            "typeset": Markup(_TYPESET.format(options=json.dumps(_KATEX_OPTIONS)))}


# throwOnError false: a formula KaTeX cannot read shows as red source (.katex-error), not
# a blank page; the tests count those.
_KATEX_OPTIONS = {"throwOnError": False}
_TYPESET = """<script>
// without KaTeX (offline, with the CDN's copy) the formulas stay as TeX
if (typeof katex !== "undefined") for (const element of document.querySelectorAll(".math")) {{
  katex.render(element.textContent, element,
               Object.assign({{displayMode: element.classList.contains("display")}}, {options}));
}}
</script>"""
