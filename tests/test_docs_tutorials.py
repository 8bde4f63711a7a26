"""The tutorials of the documentation site run, so that they cannot rot.

Every page `docs/tutorials/*.md` with at least one ```python block is a test case: its python
blocks are joined in order and executed in one fresh namespace, in a temporary working
directory. A page that takes more than about 20 s says so with the comment
`<!-- tutorial-test: slow -->`; its case is then marked slow (run by CI with `-m slow`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[1] / "docs" / "tutorials"
SLOW_MARKER = "<!-- tutorial-test: slow -->"
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(markdown: str) -> list[str]:
    """The ```python fenced blocks of a markdown text, in order (fences at column 0 only)."""
    return [match.group(1) for match in _BLOCK.finditer(markdown)]


def _cases() -> list:
    cases = []
    for page in sorted(TUTORIALS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        if not python_blocks(text):
            continue
        marks = [pytest.mark.slow] if SLOW_MARKER in text else []
        cases.append(pytest.param(page, marks=marks, id=page.stem))
    return cases


def test_block_extraction_keeps_order_and_skips_other_languages() -> None:
    text = (
        "intro\n```python\na = 1\n```\n\n```bash\nexit 1\n```\n"
        "```python\nb = a + 1\n```\n    ```python\n    indented = True\n    ```\n"
    )
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n"]


def test_the_tabular_tutorial_is_collected() -> None:
    ids = [case.id for case in _cases()]
    assert "tabular" in ids


@pytest.mark.parametrize("page", _cases())
def test_tutorial_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = "\n".join(python_blocks(page.read_text(encoding="utf-8")))
    code = compile(source, str(page), "exec")
    namespace: dict = {"__name__": f"tutorial_{page.stem}"}
    exec(code, namespace)  # the page's own code is what is under test
