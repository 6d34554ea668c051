"""derivgen: step-by-step, verified derivations of matrix gradients.

The library API lives in :mod:`derivgen.api`; the command line in
:mod:`derivgen.cli`.
"""

__version__ = "0.1.0"
