"""derivgen: step-by-step, verified derivations of matrix gradients.

>>> import derivgen
>>> d = derivgen.derive_file("problems/softmax.toml")
>>> d.gradients["S"]
'(A - Y) / N'

``derive_file`` returns a :class:`derivgen.notebook.DerivationView`, which has
``.gradients``, ``.to_markdown()``, ``.to_latex()``, ``.to_json()`` and shows
itself in Jupyter. The rest of the library API is in :mod:`derivgen.api`; the
command line in :mod:`derivgen.cli`.
"""

__version__ = "0.1.0"
__all__ = ["__version__", "derive_file"]


def __getattr__(name: str):
    # imported on first use: `derivgen --help` must not pay for sympy
    if name == "derive_file":
        from .notebook import derive_file
        return derive_file
    raise AttributeError(f"module 'derivgen' has no attribute {name!r}")
