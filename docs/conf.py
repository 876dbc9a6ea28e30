"""Sphinx configuration of the asymptotics documentation.

Build (offline; warnings are errors)::

    python -m sphinx -W -b html docs docs/_build/html

The notebooks are the MyST-markdown sources in ``notebooks/`` (``docs/notebooks`` links there),
executed by MyST-NB with a cache (``docs/_build/.jupyter_cache``): a rebuild re-executes only the
notebooks whose code changed.  Mathematics is rendered by the MathJax copy in ``_static/mathjax``;
nothing is fetched from the network.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# Document (and execute the notebooks against) the package of this tree, also in the notebook kernels.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
os.environ.setdefault("MPLBACKEND", "Agg")

import asymptotics  # noqa: E402

project = "asymptotics"
author = "the asymptotics developers"
copyright = "the asymptotics developers"
version = release = asymptotics.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "cli_reference",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "notebooks/*.ipynb", "notebooks/README*"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}

# --- MyST and MyST-NB --------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# markdown outputs of code cells (tables with $...$) are parsed as MyST, so their mathematics renders
nb_render_markdown_format = "myst"

# --- API reference -------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource", "ignore-module-all": True}
autodoc_typehints = "description"
autodoc_preserve_defaults = True

# --- HTML: local MathJax, no CDN -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"asymptotics {release}"
html_static_path = ["_static"]
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {"svg": {"fontCache": "global"}}
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": []}
html_show_sourcelink = False


_LITERAL = re.compile(r"(``.*?``)")


def escape_bars(app, what, name, obj, options, lines):
    """Docstrings write norms and set sizes as plain-text mathematics (``|S|``, ``|x|^2``); a bar outside
    an inline literal would be read as a reStructuredText substitution reference, so it is escaped."""
    for i, line in enumerate(lines):
        if "|" not in line or line.lstrip().startswith(">>>") or line.lstrip().startswith("..."):
            continue
        parts = _LITERAL.split(line)
        lines[i] = "".join(
            p if p.startswith("``") and p.endswith("``") and len(p) >= 4 else p.replace("|", "\\|")
            for p in parts
        )


def setup(app):
    # Titles with mathematics also appear in the navigation of pages that have none: load MathJax on
    # every page, not only on pages with equations.
    app.set_html_assets_policy("always")
    app.connect("autodoc-process-docstring", escape_bars)
