"""Sphinx configuration: Markdown pages (MyST), the API reference from the docstrings, the gallery.

The build fetches nothing (no intersphinx, no remote images) and the pages load nothing from
elsewhere: math is written out as MathML by docutils, which browsers display without a script.
"""

from __future__ import annotations

import builtins
import html
import sys
from pathlib import Path

from docutils import nodes
from docutils.utils.math import latex2mathml
from sphinx.util import logging

import xpbackprop

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))  # the gallery imports the examples as modules

project = "xpbackprop"
author = "the xpbackprop developers"
copyright = "the xpbackprop developers"
release = version = xpbackprop.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx_gallery.gen_gallery"]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "gallery_src"]
root_doc = "index"

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}

sphinx_gallery_conf = {
    "examples_dirs": "gallery_src",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/note_",  # every page runs its example
    "run_stale_examples": True,  # the pages import examples/, which the cache does not see change
    "download_all_examples": False,
    "notebook_extensions": set(),  # the pages import examples/ by name: no notebooks to download
    "show_signature": False,
    "write_computation_times": False,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "alabaster"
html_title = f"xpbackprop {release}"
html_theme_options = {"description": "Backpropagation as batched matrix formulas on any array API library"}
html_static_path = ["_static"]
html_css_files = ["mathml.css"]
html_math_renderer = "mathml"


def _mathml(node, *, block: bool) -> str:
    """The node's LaTeX as MathML; LaTeX that docutils cannot convert is a warning, shown as text."""
    try:
        return latex2mathml.tex2mathml(node.astext(), as_block=block)
    except latex2mathml.MathError as exc:
        logger.warning("math not converted to MathML: %s", exc, location=node)
        return f"<code>{html.escape(node.astext())}</code>"


def _inline_mathml(self, node):
    self.body.append(_mathml(node, block=False))
    raise nodes.SkipNode


def _block_mathml(self, node):
    self.body.append(f'<div class="math">{_mathml(node, block=True)}</div>')
    raise nodes.SkipNode


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out members that another library adds to ours (scikit-learn's ``set_*_request``)."""
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and not module.startswith("xpbackprop"):
        return True
    return None


_BUILTIN_DOCS = {t.__doc__.strip() for t in vars(builtins).values() if isinstance(t, type) and t.__doc__}


def _drop_builtin_docstrings(app, what, name, obj, options, lines):
    """A constant or attribute with no docstring of its own is shown without the docstring of a
    built-in type (``dict``'s, inherited from the attribute it overrides), which autodoc would print."""
    if "\n".join(lines).strip() in _BUILTIN_DOCS:
        lines.clear()


def setup(app):
    app.add_html_math_renderer("mathml", (_inline_mathml, None), (_block_mathml, None))
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("autodoc-process-docstring", _drop_builtin_docstrings)
