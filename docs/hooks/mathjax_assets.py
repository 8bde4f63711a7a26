"""MkDocs hook: serve MathJax from the site itself, taken from an installed Python package.

The site renders math with MathJax 3 in the browser (`pymdownx.arithmatex` in generic mode writes
`\\(...\\)` and `\\[...\\]` into elements of class `arithmatex`; `docs/javascripts/mathjax.js`
configures MathJax to typeset only those). No file of MathJax is kept in git and nothing is
fetched from the network when a page is viewed: at build time this hook adds the MathJax
components of the PyPI package `django-static-mathjax` (MathJax 3.2.2, Apache-2.0, no
dependencies; installed by the `docs` extra) to the site under `assets/mathjax/`.

What is copied: the `tex-chtml.js` bundle and the folders it loads on demand (TeX extensions
through `autoload`, the CommonHTML fonts, the menu, the accessibility extensions and the speech
rule engine they use). The other combined bundles and the SVG output are left out.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel

TARGET = "assets/mathjax"
"""Where the MathJax components go inside the site."""
BUNDLE = "tex-chtml.js"
"""The combined component the pages load (TeX input, CommonHTML output, menu)."""
FOLDERS = ("input", "output/chtml", "ui", "a11y", "sre", "adaptors")
"""Folders of `es5/` that the bundle loads on demand."""
EXPECTED_MAJOR = "3."
"""The MathJax major version that `docs/javascripts/mathjax.js` is written for."""


def mathjax_root() -> Path:
    """The `es5/` folder of the installed MathJax package.

    Raises:
        PluginError: the package is missing or does not hold MathJax 3's `es5/` components.
    """
    hint = 'install the docs extra: python -m pip install -e ".[docs]"'
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise PluginError(f"MathJax is not installed (package django-static-mathjax); {hint}")
    package = Path(next(iter(spec.submodule_search_locations)))
    root = package / "static" / "mathjax"
    es5 = root / "es5"
    if not (es5 / BUNDLE).is_file():
        raise PluginError(
            f"the installed 'mathjax' package at {package} has no static/mathjax/es5/{BUNDLE}; "
            f"it is not django-static-mathjax; {hint}"
        )
    version = json.loads((root / "package.json").read_text()).get("version", "")
    if not str(version).startswith(EXPECTED_MAJOR):
        raise PluginError(f"MathJax {EXPECTED_MAJOR}x expected, found {version!r}; {hint}")
    return es5


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Adds the MathJax components to the site's files (also under `mkdocs serve`)."""
    es5 = mathjax_root()
    sources = [es5 / BUNDLE]
    for folder in FOLDERS:
        sources.extend(sorted(p for p in (es5 / folder).rglob("*") if p.is_file()))
    for source in sources:
        uri = f"{TARGET}/{source.relative_to(es5).as_posix()}"
        files.append(File.generated(config, uri, abs_src_path=str(source),
                                    inclusion=InclusionLevel.NOT_IN_NAV))
    return files
