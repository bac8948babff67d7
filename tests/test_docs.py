"""The user documentation stays true to the code.

- Every ```python block of ``docs/walkthrough.md`` runs, in order, in one namespace,
  from the repository root (as a reader pasting them into a notebook would).
- Every command of the CLI is mentioned as ``mapper <command path>`` in ``README.md`` or
  ``docs/*.md``.
- Every relative link in ``README.md`` and ``docs/*.md`` points to a file that exists,
  and a ``#section`` of a Markdown page to one of its headings (GitHub's anchors).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

import mapper.cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
WALKTHROUGH = DOCS / "walkthrough.md"

_FENCE = re.compile(r"^(`{3,}|~{3,})([^\n`]*)\n(.*?)^\1[ \t]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)


def _markdown_files() -> list[Path]:
    files = sorted(DOCS.glob("*.md"))
    readme = ROOT / "README.md"
    return [readme, *files] if readme.is_file() else files


def _python_blocks(text: str) -> list[str]:
    return [body for _fence, info, body in _FENCE.findall(text) if info.strip().lower() == "python"]


def _without_code(text: str) -> str:
    """The Markdown text with fenced blocks and inline code removed."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub makes for the headings of a Markdown page."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    # typer may ship its own copy of click, so groups are told apart by duck typing.
    if hasattr(command, "commands"):
        for name, sub in sorted(command.commands.items()):
            yield from _command_paths(sub, (*prefix, name))
    elif prefix:
        yield " ".join(prefix)


@pytest.mark.filterwarnings("ignore:Consider using IPython.display.IFrame")
def test_walkthrough_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python block of the walk-through runs, in order, from the repository root."""
    blocks = _python_blocks(WALKTHROUGH.read_text(encoding="utf-8"))
    assert blocks, "the walk-through has no python blocks"
    has_ipython = importlib.util.find_spec("IPython") is not None
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {"__name__": "__walkthrough__"}
    try:
        for number, block in enumerate(blocks, 1):
            if not has_ipython:
                # net.show() needs IPython; everything else must run without it.
                block = "\n".join(
                    "pass" if ".show(" in line else line for line in block.splitlines()
                )
            code = compile(block, f"{WALKTHROUGH.name} python block {number}", "exec")
            exec(code, namespace)
    finally:
        out = namespace.get("OUT")
        if isinstance(out, str) and Path(out).is_dir() and not Path(out).is_relative_to(ROOT):
            shutil.rmtree(out, ignore_errors=True)
    assert "net" in namespace, "the walk-through should build `net`"


def test_every_command_is_documented() -> None:
    """Each CLI command appears as `mapper <command path>` in the README or the docs."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in _markdown_files())
    commands = list(_command_paths(typer.main.get_command(mapper.cli.app)))
    assert "run" in commands and "collect x search" in commands
    missing = [
        path
        for path in commands
        if not re.search(
            r"(?<![\w/-])mapper\s+" + r"\s+".join(map(re.escape, path.split())) + r"(?![\w-])",
            text,
        )
    ]
    assert not missing, f"commands not mentioned as `mapper <command>` in the docs: {missing}"


def test_relative_links_point_to_files() -> None:
    """Every relative link in README.md and docs/*.md names an existing file."""
    broken = []
    for page in _markdown_files():
        text = _without_code(page.read_text(encoding="utf-8"))
        targets = _LINK.findall(text) + _REFERENCE.findall(text)
        for target in targets:
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # http:, https:, mailto: ...
            if target.startswith("#"):
                if target[1:] not in _anchors(page):
                    broken.append(f"{page.relative_to(ROOT)}: {target} (no such section)")
                continue
            path, _, anchor = target.partition("#")
            path = path.split("?", 1)[0]
            if not path:
                continue
            file = page.parent / path
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such section)")
    assert not broken, "broken relative links:\n" + "\n".join(broken)
