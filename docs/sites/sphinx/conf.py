"""An example course site that embeds derivgen's derivations (docs/sites/README.md).

Build it from anywhere: sphinx-build -W -b html docs/sites/sphinx docs/sites/sphinx/_build/html
"""

project = "Matrix calculus, worked by derivgen"
extensions = ["myst_parser", "derivgen.sphinx_ext"]

# What the directives name problem files relative to (and may not leave): here the
# repository's root, so that pages name problems/softmax.toml.
derivgen_problems_dir = "../../.."

# For this site's own Markdown pages; the embedded reports need no myst_* setting.
myst_enable_extensions = ["dollarmath", "amsmath"]
exclude_patterns = ["_build"]
