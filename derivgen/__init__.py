"""derivgen: step-by-step, verified derivations of matrix gradients.

>>> import derivgen
>>> d = derivgen.derive_file("problems/softmax.toml")
>>> d.gradients["S"]
'(A - Y) / N'

``derive_file`` (a path) and ``derive`` (TOML text, or a dict of its tables) return a
:class:`derivgen.notebook.DerivationView`, which has ``.gradients``, ``.report()``,
``.to_markdown()``, ``.to_latex()``, ``.to_json()`` and shows its results in Jupyter.
The rest of the library API is in :mod:`derivgen.api`; the command line in
:mod:`derivgen.cli`.
"""

__version__ = "0.1.0"
__all__ = ["DerivationView", "__version__", "derive", "derive_file"]
_LAZY = ("DerivationView", "derive", "derive_file")     # from derivgen.notebook


def __getattr__(name: str):
    # imported on first use: `derivgen --help` must not pay for sympy
    if name in _LAZY:
        from . import notebook
        return getattr(notebook, name)
    raise AttributeError(f"module 'derivgen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
