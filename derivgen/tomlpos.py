"""Where each key and value of a TOML document stands.

:mod:`tomllib` parses TOML but forgets positions, and every message about a
problem file should name its line. This module re-reads text that tomllib has
already accepted and records, for every key path, the line and column of the
key and of its value; array elements get their index as the last path part.
It follows the TOML grammar closely enough for valid documents and is never
the judge of validity: on anything unexpected it stops and keeps what it has.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

Path = tuple  # of str (keys) and int (array indices)


@dataclass(frozen=True)
class Position:
    line: int          # 1-based line of the key (or of the value, for array elements)
    column: int        # 1-based column of the key
    value_line: int
    value_column: int
    raw: str = ""      # the value's text as written, when it is a one-line string


class _Stop(Exception):
    pass


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.found: dict[Path, Position] = {}
        self.array_tables: dict[Path, int] = {}

    # -- characters ------------------------------------------------------
    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def advance(self, n: int = 1) -> None:
        for _ in range(n):
            if self.i < len(self.s) and self.s[self.i] == "\n":
                self.line += 1
                self.line_start = self.i + 1
            self.i += 1

    @property
    def col(self) -> int:
        return self.i - self.line_start + 1

    def skip_space(self, newlines: bool = False) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.advance()
            elif c == "#":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.advance()
            else:
                return

    def expect(self, c: str) -> None:
        if self.peek() != c:
            raise _Stop
        self.advance()

    # -- grammar -----------------------------------------------------------
    def document(self) -> None:
        table: Path = ()
        while True:
            self.skip_space(newlines=True)
            if self.i >= len(self.s):
                return
            if self.peek() == "[":
                table = self.header()
            else:
                self.keyval(table)

    def header(self) -> Path:
        line, col = self.line, self.col
        array = self.peek(1) == "["
        self.advance(2 if array else 1)
        self.skip_space()
        key = self.key()
        self.expect("]")
        if array:
            self.expect("]")
            index = self.array_tables.get(key, -1) + 1
            self.array_tables[key] = index
            key = key + (index,)
        self.found.setdefault(key, Position(line, col, line, col))
        return key

    def key(self) -> Path:
        parts: list[str] = []
        while True:
            self.skip_space()
            if self.peek() in ('"', "'"):
                text, raw = self.string()
                # a quoted key as tomllib reads it: escapes such as \n decoded
                parts.append(tomllib.loads(f"k = {raw}")["k"] if raw else text)
            else:
                start = self.i
                while self.peek() and (self.peek().isalnum() or self.peek() in "-_"):
                    self.advance()
                if self.i == start:
                    raise _Stop
                parts.append(self.s[start:self.i])
            self.skip_space()
            if self.peek() != ".":
                return tuple(parts)
            self.advance()

    def keyval(self, table: Path) -> None:
        line, col = self.line, self.col
        key = table + self.key()
        self.expect("=")
        self.skip_space()
        self.value(key, line, col)

    def value(self, path: Path, line: int, col: int) -> None:
        vline, vcol = self.line, self.col
        raw = ""
        c = self.peek()
        if c == "{":
            self.advance()
            self.skip_space()
            while self.peek() != "}":
                self.keyval(path)
                self.skip_space()
                if self.peek() == ",":
                    self.advance()
                    self.skip_space()
            self.advance()
        elif c == "[":
            self.advance()
            index = 0
            self.skip_space(newlines=True)
            while self.peek() != "]":
                self.value(path + (index,), self.line, self.col)
                index += 1
                self.skip_space(newlines=True)
                if self.peek() == ",":
                    self.advance()
                    self.skip_space(newlines=True)
            self.advance()
        elif c in ('"', "'"):
            _, raw = self.string()
        else:
            while self.peek() and self.peek() not in ",]}\n#":
                self.advance()
        if not c:
            raise _Stop
        self.found.setdefault(path, Position(line, col, vline, vcol, raw))

    def string(self) -> tuple[str, str]:
        """Consume a string; return (its text, roughly, and its raw one-line form or "")."""
        q = self.peek()
        start = self.i
        if self.peek(1) == q and self.peek(2) == q:            # multi-line string
            self.advance(3)
            while not (self.peek() == q and self.peek(1) == q and self.peek(2) == q):
                if not self.peek():
                    raise _Stop
                self.advance(2 if q == '"' and self.peek() == "\\" else 1)
            self.advance(3)
            while self.peek() == q:                             # up to two quotes may close it
                self.advance()
            return self.s[start + 3:self.i - 3], ""
        self.advance()
        while self.peek() != q:
            if not self.peek() or self.peek() == "\n":
                raise _Stop
            self.advance(2 if q == '"' and self.peek() == "\\" else 1)
        self.advance()
        raw = self.s[start:self.i]
        return raw[1:-1], raw


def scan(text: str) -> dict[Path, Position]:
    """Positions of every key path in ``text`` (a document tomllib accepted)."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (_Stop, IndexError):
        pass
    return scanner.found


def string_column(pos: Position, offset: int) -> int:
    """The file column of character ``offset`` of a one-line string value.

    Escape sequences in basic strings are walked so that the column points at
    the character as written. Without a one-line raw form, the value's column.
    """
    raw = pos.raw
    if not raw:
        return pos.value_column
    j, k = 1, 0                                 # j: index in raw (after the quote), k: decoded
    while k < offset and j < len(raw) - 1:
        if raw[0] == '"' and raw[j] == "\\":
            j += {"u": 6, "U": 10}.get(raw[j + 1], 2)
        else:
            j += 1
        k += 1
    return pos.value_column + j
