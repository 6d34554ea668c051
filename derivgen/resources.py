"""Files that ship with derivgen."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).parent


def builtin_templates() -> Path:
    """derivgen's own templates folder.

    The project's ``templates/`` folder is packed into the wheel as
    ``derivgen/templates``; in a source checkout it is found beside the package.
    """
    packaged = _PACKAGE / "templates"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "templates"


def format_documentation() -> str:
    """The problem format's documentation (``derivgen help format``).

    ``docs/problem-format.md`` is packed into the wheel as
    ``derivgen/docs/problem-format.md``; in a source checkout it is read in place.
    """
    packaged = _PACKAGE / "docs" / "problem-format.md"
    source = packaged if packaged.is_file() else _PACKAGE.parent / "docs" / "problem-format.md"
    return source.read_text(encoding="utf-8")
