"""The documentation site's sources stay true to the code, and its browser check can fail.

Default suite (no MkDocs, no browser needed): the pages name tests that exist, the navigation
names pages that exist, every theory page includes its generated derivation fragment, the home
page carries the README's set-up commands verbatim, and the pure parts of the browser check work.

Slow (needs Debian's `chromium`, which `.ci/run` installs): the browser check
(`tests/browser/check_site.py`) passes a small clean site and reports each kind of broken page.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FRAGMENTS = DOCS / "snippets" / "derivations"


def _load_check_site():
    path = ROOT / "tests" / "browser" / "check_site.py"
    spec = importlib.util.spec_from_file_location("irlgan_docs_check_site", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check_site = _load_check_site()


def _pages() -> list[Path]:
    return [p for p in sorted(DOCS.rglob("*.md")) if "snippets" not in p.relative_to(DOCS).parts]


def test_every_test_named_in_the_docs_exists() -> None:
    cited = 0
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for file, name in re.findall(r"(tests/[\w/]+\.py)::(test_\w+)", text):
            source = ROOT / file
            assert source.is_file(), f"{page.relative_to(ROOT)} names {file}, which does not exist"
            assert re.search(rf"^\s*def {name}\(", source.read_text(), re.MULTILINE), (
                f"{page.relative_to(ROOT)} names {file}::{name}, which does not exist"
            )
            cited += 1
        for file in re.findall(r"`(tests/[\w/]+\.py)`", text):
            assert (ROOT / file).is_file(), f"{page.relative_to(ROOT)} names missing {file}"
    assert cited >= 20


def test_every_navigation_entry_is_a_page() -> None:
    nav = (ROOT / "mkdocs.yml").read_text().split("\nnav:\n", 1)[1]
    entries = re.findall(r"^\s*-\s+(?:[^:\n]+:\s+)?(\S+\.md)\s*$", nav, re.MULTILINE)
    assert "index.md" in entries and "tutorials/tabular.md" in entries
    for entry in entries:
        assert (DOCS / entry).is_file(), f"mkdocs.yml nav names docs/{entry}, which is missing"


def test_each_theory_page_includes_its_generated_fragment() -> None:
    fragments = sorted(p.name for p in FRAGMENTS.glob("*.md"))
    assert len(fragments) >= 7
    included = set()
    for page in sorted((DOCS / "theory").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r'^--8<-- "derivations/([\w.]+\.md)"$', text, re.MULTILINE):
            assert (FRAGMENTS / name).is_file(), f"{page.name} includes missing {name}"
            assert "GENERATED" in (FRAGMENTS / name).read_text().splitlines()[0]
            included.add(name)
        if page.name != "index.md":
            assert page.name in included, f"{page.name} does not include its own fragment"
    assert included == set(fragments), "every generated fragment appears on a theory page"


def test_home_page_has_the_readme_setup_commands_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^```bash\n(python -m pip install torch[^\n]*)\n```", readme,
                          re.MULTILINE)
    assert len(commands) == 2
    home = (DOCS / "index.md").read_text(encoding="utf-8")
    for command in commands:
        assert f"```bash\n{command}\n```" in home


def test_home_page_pictures_exist() -> None:
    home = (DOCS / "index.md").read_text(encoding="utf-8")
    pictures = re.findall(r"\]\((assets/[^)\s]+\.png)\)", home)
    assert pictures
    for picture in pictures:
        assert (DOCS / picture).is_file()


def test_unrendered_math_is_detected_in_visible_text() -> None:
    find = check_site.find_unrendered_math
    assert find("The gap is 0.05 nats and costs $3 at most.") == []
    assert find("D = p/(p+q) rendered") == []
    for raw in ("$$ D = p $$", r"where \( x \) is", r"\[ x \]", r"\begin{aligned}",
                r"so $\log Z$ is"):
        assert find(f"text {raw} text"), raw


def test_anchors_and_pages_are_read_from_html(tmp_path: Path) -> None:
    html = '<h2 id="what-it-says">x</h2><a name="old"></a><a href="#x">y</a><p id="">z</p>'
    assert check_site.html_anchors(html) == {"what-it-says", "old", ""}
    for name in ("index.html", "404.html", "theory/index.html", "theory/gradient/index.html",
                 "assets/x/page.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<html></html>")
    pages = check_site.site_pages(tmp_path)
    assert sorted(pages) == ["", "404.html", "theory/", "theory/gradient/"]


# ------------------------------------------------------------------------------------------------
# The browser check itself, on hand-made sites (slow: starts Chromium)
# ------------------------------------------------------------------------------------------------

_GOOD = """<!doctype html><html><head><title>{title}</title><link rel="icon" href="data:,">
</head><body>
<h1 id="top">{title}</h1><p>Prose with a price of $3 and code <code>\\(x\\)</code>.</p>
<a href="{link}">next</a> <a href="#top">top</a>{extra}</body></html>"""


def _write(site: Path, path: str, title: str, link: str = "index.html", extra: str = "") -> None:
    target = site / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_GOOD.format(title=title, link=link, extra=extra))


def _clean_site(site: Path) -> None:
    _write(site, "index.html", "home", link="theory/gradient/#top")
    _write(site, "theory/gradient/index.html", "gradient", link="../../index.html#top")


@pytest.mark.slow
def test_browser_check_passes_a_clean_site(tmp_path: Path, capsys) -> None:
    site = tmp_path / "site"
    _clean_site(site)
    shot = tmp_path / "shot.png"
    status = check_site.run(site, shot, timeout=30)
    output = capsys.readouterr().out
    assert status == 0, output
    assert "2 pages opened" in output
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_browser_check_reports_each_kind_of_broken_page(tmp_path: Path, capsys) -> None:
    site = tmp_path / "site"
    _clean_site(site)
    _write(site, "console/index.html", "console",
           extra="<script>console.error('boom from the page')</script>")
    _write(site, "exception/index.html", "exception",
           extra="<script>null.property</script>")
    _write(site, "rawmath/index.html", "raw math", extra="<p>$$ D = p/(p+q) $$</p>")
    _write(site, "nomathjax/index.html", "no mathjax",
           extra='<span class="arithmatex">\\(x\\)</span>')
    _write(site, "deadlink/index.html", "dead link", link="../missing/")
    _write(site, "anchor/index.html", "anchor", link="../theory/gradient/#no-such-heading")
    _write(site, "image/index.html", "image", extra='<img src="missing.png">')
    _write(site, "worker/index.html", "worker", extra=(
        "<script>new Worker(URL.createObjectURL(new Blob("
        "[\"console.error('boom from a worker')\"])))</script>"))
    status = check_site.run(site, None, timeout=30)
    output = capsys.readouterr().out
    assert status == 1, output
    expected = {
        "/console/": "boom from the page",
        "/exception/": "uncaught exception",
        "/rawmath/": "raw '$$'",
        "/nomathjax/": "MathJax did not load",
        "links": "/missing/ answers 404",
        "/image/": "404",
        "/worker/": "boom from a worker",
    }
    for where, message in expected.items():
        assert any(line.startswith(f"FAIL {where}:") and message in line
                   for line in output.splitlines()), (where, message, output)
    assert "#no-such-heading: no such anchor" in output
    assert not any(line.startswith(("FAIL /:", "FAIL /theory/gradient/:"))
                   for line in output.splitlines()), output
