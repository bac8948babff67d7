"""timeline.html in a real headless Chromium: it draws offline, the slider changes
the window shown (an actor who moved changes colour, in place), hostile names never
run. Skipped with a reason when Chromium is missing (required in CI)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM_ARGS, HOSTILE_IMG, HOSTILE_SCRIPT, Offline, chromium_path
from test_timeline import names, planted

from mapper.project import load_project
from mapper.render.timeline import write_timeline
from mapper.timeline import run_timeline

pytestmark = pytest.mark.browser


def _no_browser(reason: str) -> None:
    if os.environ.get("MAPPER_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests are required here but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def tab() -> Iterator[tuple[Any, Offline]]:
    executable = chromium_path()
    if executable is None:
        _no_browser("no Chromium found at /usr/bin/chromium or on PATH")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        _no_browser("playwright is not installed")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:
            _no_browser(f"Chromium at {executable} cannot be launched: {exc}")
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        yield page, Offline(page)
        browser.close()


def _ready(page: Any) -> None:
    deadline = time.perf_counter() + 20
    while not page.evaluate("() => window.mapperReady === true"):
        assert time.perf_counter() < deadline, "the page never became ready"
        page.wait_for_timeout(20)


def test_the_slider_moves_through_the_windows(tab: tuple[Any, Offline], tmp_path: Path) -> None:
    page, guard = tab
    mover = HOSTILE_IMG + HOSTILE_SCRIPT
    A = [mover, *names("a", 9)]
    B = names("b", 10)
    plan = [{"A": A, "B": B}] * 2 + [{"A": A[1:], "B": [*B, mover]}] * 2
    tl = run_timeline(load_project(planted(tmp_path / "p", plan, seed=4)), every="1w")
    assert [m["to_window"] for m in tl.moves] == ["w03"]
    path = write_timeline(tl, tmp_path / "out")["timeline.html"]
    page.goto(path.resolve().as_uri())
    _ready(page)
    label = "() => document.getElementById('window-label').textContent"
    assert page.evaluate(label).startswith("w01")
    circle = (
        "name => { const c = Array.from(document.querySelectorAll('#map circle'))"
        ".find(c => c.firstChild.textContent.startsWith(name));"
        " return [c.getAttribute('fill'), c.getAttribute('cx'), c.getAttribute('cy')]; }"
    )
    before = page.evaluate(circle, mover)
    page.eval_on_selector("#slider", "s => { s.value = '2'; s.dispatchEvent(new Event('input')); }")
    assert page.evaluate(label).startswith("w03")
    after = page.evaluate(circle, mover)
    assert after[0] != before[0] and after[1:] == before[1:]  # new colour, same place
    moves = page.evaluate("() => document.getElementById('moves').textContent")
    assert mover in moves and "\u2192" in moves  # shown as text, not markup
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('#moves img, #legend img').length") == 0
    assert guard.requests == [] and guard.errors == [] and guard.dialogs == []
