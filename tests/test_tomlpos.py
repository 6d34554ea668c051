"""Positions of keys and values in TOML text, for error messages."""

from derivgen.tomlpos import scan, string_column

DOC = '''\
title = "T"   # comment with = sign
[dims]
C = 3
[inputs]
W = { shape = ["C", "D"], description = "a, b" }
X.shape = [
  "D",
  "N",
]
[steps]
S = "W @ X"
A = { expr = 'softmax(S, axis=0)', latex = "\\\\hat{A}" }
E = "\\"x\\" + \\u00e9 + Q"
M = """
multi = "not a key"
"""
[[check.runs]]
n = 1
[[check.runs]]
n = 2
'''


def test_positions_of_keys_and_values():
    pos = scan(DOC)
    assert (pos[("title",)].line, pos[("title",)].column) == (1, 1)
    assert pos[("dims",)].line == 2
    assert pos[("dims", "C")].line == 3
    assert (pos[("inputs", "W", "shape")].line, pos[("inputs", "W", "shape")].column) == (5, 7)
    assert pos[("inputs", "W", "shape", 1)].value_column == 21
    assert pos[("inputs", "X", "shape")].line == 6
    assert pos[("inputs", "X", "shape", 1)].line == 8
    assert pos[("steps", "A", "expr")].line == 12
    assert pos[("steps", "M")].line == 14
    assert ("multi",) not in pos and ("steps", "multi") not in pos
    assert pos[("check", "runs", 1, "n")].line == 20


def test_string_column_points_at_the_character_as_written():
    pos = scan(DOC)
    s = pos[("steps", "S")]
    assert string_column(s, 0) == 6 and string_column(s, 4) == 10       # W and X of "W @ X"
    a = pos[("steps", "A", "expr")]
    assert string_column(a, 0) == 15                                     # the s of softmax
    e = pos[("steps", "E")]
    # line 13 reads  E = "\"x\" + \u00e9 + Q"  with the value opening at column 5; decoded
    # it is "x" + é + Q, whose Q (index 10) is written at column 23
    assert string_column(e, 10) == 23


def test_scanner_keeps_what_it_has_on_text_it_does_not_follow():
    pos = scan('a = 1\nb = "unterminated\n')
    assert pos[("a",)].line == 1
