"""Markdown layout (the blank lines renderers need between blocks) and text from a
problem file made safe for Markdown: no raw HTML, no links, no block structure."""

import pytest

from derivgen.render import markdown_blocks, md_line, md_text


def test_blocks_get_one_blank_line_between_them_and_math_is_kept_whole():
    raw = ("# Title\nIntro line one\nline two\n## Setup\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
           "**Step** one\n$$\nx\n\n= y\n$$\nusing: that\n\n\n\n- item\n- item\n")
    assert markdown_blocks(raw) == (
        "# Title\n\nIntro line one\nline two\n\n## Setup\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n"
        "**Step** one\n\n$$\nx\n\n= y\n$$\n\nusing: that\n\n- item\n- item\n")


def test_a_table_cell_is_one_line_with_its_pipes_escaped():
    assert md_line("weights |W|\n  per   row") == r"weights \|W\| per row"


@pytest.mark.parametrize("text, markdown", [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('<img src=x onerror="alert(1)">', '&lt;img src=x onerror="alert(1)"&gt;'),
    ("[click](javascript:alert(1))", r"\[click\](javascript:alert(1))"),
    ("![x](http://tracker/x.png)", r"!\[x\](http://tracker/x.png)"),
    ("R&D 5$ a_b ~x~ \\", r"R&amp;D 5\$ a\_b \~x\~ \\"),
    ("# not a heading", r"\# not a heading"),
    ("- not\n+ a\n* list\n1. nor\n2) this", "\\- not\n\\+ a\n\\* list\n1\\. nor\n2\\) this"),
    ("text\n---\n===", "text\n\\---\n\\==="),
    ("    not code\n> not a quote", "not code\n&gt; not a quote"),
    ("**bold**, *em*, `a<b>` and $x_1 < y$", "**bold**, *em*, `a<b>` and $x_1 < y$"),
    ("$a<b$", "$a< b$"),
    (r"$\input{/etc/passwd}$", r"\$\\input{/etc/passwd}\$"),
    ("one\r# two\r\nthree\x1b[31m", "one \\# two\nthree \\[31m"),
])
def test_text_from_a_problem_file_cannot_make_html_links_or_blocks(text, markdown):
    assert md_text(text) == markdown


def test_a_title_is_one_line():
    assert md_line("Softmax\n::error file=README.md,line=1::x") == \
        "Softmax ::error file=README.md,line=1::x"
