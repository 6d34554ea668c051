"""numpy and sympy, imported on first use: `derivgen --help` must not pay for them."""

from __future__ import annotations

from importlib import import_module
from typing import Any


class _Lazy:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(import_module(self._name), attr)


np = _Lazy("numpy")
sp = _Lazy("sympy")
