"""Markdown layout: the blank lines renderers need between blocks."""

from derivgen.render import markdown_blocks, markdown_cell


def test_blocks_get_one_blank_line_between_them_and_math_is_kept_whole():
    raw = ("# Title\nIntro line one\nline two\n## Setup\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
           "**Step** one\n$$\nx\n\n= y\n$$\nusing: that\n\n\n\n- item\n- item\n")
    assert markdown_blocks(raw) == (
        "# Title\n\nIntro line one\nline two\n\n## Setup\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n"
        "**Step** one\n\n$$\nx\n\n= y\n$$\n\nusing: that\n\n- item\n- item\n")


def test_a_table_cell_is_one_line_with_its_pipes_escaped():
    assert markdown_cell("weights |W|\n  per   row") == r"weights \|W\| per row"
