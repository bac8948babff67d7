"""Display text (mapper.text): what people read of names and posts carries no
bidirectional or invisible characters and has a length cap, marked where cut, that
holds for names of any size."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from mapper.analysis.bridges import md_link, md_text
from mapper.render.layout import clean_text, node_label
from mapper.text import (
    BIDI_CONTROLS,
    ELLIPSIS,
    LABEL_LENGTH,
    ZERO_WIDTH,
    display_label,
    display_text,
)

HIDDEN = sorted(BIDI_CONTROLS | ZERO_WIDTH)


def hostile_name(rng: random.Random, length: int = 12) -> tuple[str, str]:
    """A name with hidden characters sprinkled in, and the same name without them."""
    letters = "abcdefghij KLMNOP-'é"
    visible = "".join(rng.choice(letters) for _ in range(length)).strip() or "x"
    out = []
    for char in visible:
        if rng.random() < 0.4:
            out.append(rng.choice(HIDDEN))
        out.append(char)
    out.append(rng.choice(HIDDEN))
    return "".join(out), " ".join(visible.split())


@pytest.mark.parametrize("char", HIDDEN, ids=[f"U+{ord(c):04X}" for c in HIDDEN])
def test_every_bidi_control_and_zero_width_character_is_removed(char: str) -> None:
    text = f"Anna {char}Smith{char} (3 ties)"
    assert display_text(text) == "Anna Smith (3 ties)"
    assert display_label(text) == "Anna Smith (3 ties)"
    assert clean_text(text, one_line=True) == "Anna Smith (3 ties)"


@pytest.mark.parametrize("seed", range(6))
def test_generated_hostile_names_keep_their_visible_characters_in_order(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        raw, visible = hostile_name(rng, rng.randint(1, 40))
        shown = display_label(raw)
        assert not set(shown) & (BIDI_CONTROLS | ZERO_WIDTH)
        assert shown == visible


def test_terminal_and_c1_controls_are_removed_and_line_breaks_kept() -> None:
    raw = "one\x9b31mtwo\x1b[0m\x07\r\nthree\x85four\u2028five\u2029six"
    assert display_text(raw) == "one31mtwo[0m\nthree\nfour\nfive\nsix"
    assert display_text(raw, one_line=True) == "one31mtwo[0m three four five six"
    assert display_text("\ud800 lone surrogate") == "? lone surrogate"


@pytest.mark.parametrize("limit", [1, 2, 5, 12, 60, LABEL_LENGTH])
@pytest.mark.parametrize("seed", range(3))
def test_cap_marks_the_cut_with_an_ellipsis(limit: int, seed: int) -> None:
    rng = random.Random(seed * 100 + limit)
    words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, 9))) for _ in range(80)]
    text = " ".join(words)
    shown = display_text(text, max_length=limit)
    assert len(shown) <= limit
    assert shown.endswith(ELLIPSIS)
    assert text.startswith(shown[:-1].rstrip())
    short = text[: max(0, limit - 1)].strip()
    if short and len(short) <= limit:
        assert display_text(short, max_length=limit) == short  # nothing cut, no mark


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "x" * n,
        lambda n: "word " * (n // 5),
        lambda n: "\u202e" * n + "tail",
        lambda n: " \n" * (n // 2) + "tail",
        lambda n: ("\u200b" + "é") * (n // 2),
    ],
    ids=["letters", "words", "bidi-run", "blank-lines", "mixed"],
)
def test_huge_values_cost_little_memory(make) -> None:
    value = make(20_000_000)
    tracemalloc.start()
    try:
        shown = display_text(value, max_length=LABEL_LENGTH, one_line=True)
        multi = display_text(value, max_length=2000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(shown) <= LABEL_LENGTH and shown.endswith(ELLIPSIS)
    assert len(multi) <= 2000 and multi.endswith(ELLIPSIS)
    # the value itself is 20-40 MB; the old cleaning made copies of all of it
    assert peak < 40_000_000, peak


def test_node_labels_are_capped_whatever_their_size() -> None:
    import networkx as nx

    G = nx.DiGraph()
    G.add_node("a", label="Long " * 250_000)
    G.add_node("b", label="\u202e" + "N" * 5000)
    G.add_node("c")
    for node in G.nodes:
        label = node_label(G, node)
        assert len(label) <= LABEL_LENGTH
        assert not set(label) & BIDI_CONTROLS
    assert node_label(G, "a").endswith(ELLIPSIS)
    assert node_label(G, "c") == "c"


@pytest.mark.parametrize("seed", range(4))
def test_markdown_cells_drop_hidden_characters_and_are_capped(seed: int) -> None:
    rng = random.Random(seed)
    raw, visible = hostile_name(rng, 30)
    cell = md_text(raw + " | *bold*")
    assert not set(cell) & (BIDI_CONTROLS | ZERO_WIDTH)
    assert cell.startswith(md_text(visible))
    assert "\\|" in cell and "\\*bold\\*" in cell
    huge = md_text("a" * 3_000_000)
    assert len(huge) <= 2000 and huge.endswith(ELLIPSIS)
    link = md_link(raw, "https://example.org/\u202egnp.exe")
    assert "\u202e" not in link and "%E2%80%AE" in link
    assert md_link("x", "https://example.org/" + "a" * 5000) == "x"
