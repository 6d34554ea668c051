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
