"""MkDocs hook: put the sweeps' plots into the site straight from `benchmarks/results/`.

`irlgan sweep SPEC --out DIR --tables benchmarks/results/sweep-NAME` keeps a copy of a sweep's
tables (`results.csv`, `summary.csv`, `summary.md`) and plot (`summary.png`) in the repository.
The pages include `summary.md` with `pymdownx.snippets` (whose base path holds `benchmarks/`)
and show the plot as `assets/sweeps/sweep-NAME/summary.png`, which this hook adds to the site,
so the page and the sweep's own files cannot drift apart (no copy into `docs/` to forget).
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
"""Where `--tables` folders are kept."""
TARGET = "assets/sweeps"
"""Where their plots go inside the site."""


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Adds every `benchmarks/results/sweep-*/*.png` to the site under `assets/sweeps/`."""
    for source in sorted(RESULTS.glob("sweep-*/*.png")):
        uri = f"{TARGET}/{source.parent.name}/{source.name}"
        files.append(File.generated(config, uri, abs_src_path=str(source),
                                    inclusion=InclusionLevel.NOT_IN_NAV))
    return files
