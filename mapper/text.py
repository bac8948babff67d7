"""Display text: what every human-facing output shows of a name, a post or a reason.

Names and posts come from the people being mapped, so they may carry characters that
change how the text *around* them reads: bidirectional controls (U+202E turns the rest
of a line right to left, so a report row can read backwards) and zero-width or other
invisible characters (two names that look alike but differ, a word hidden inside
another). They may also be any length (a one-megabyte "name" in a roster). The maps,
the report, the Markdown tables, the images and messages all show text through
:func:`display_text`, which removes those characters, folds line breaks when asked,
and caps the length, marking the cut with an ellipsis. The data exports (CSV, GEXF,
GraphML, JSON, Parquet) keep the values as given: only what people read is changed.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "BIDI_CONTROLS",
    "ELLIPSIS",
    "LABEL_LENGTH",
    "SNIPPET_LENGTH",
    "TEXT_LENGTH",
    "ZERO_WIDTH",
    "display_label",
    "display_text",
    "terminal_text",
]

#: Longest name or label shown (actor names, faction names, kinds, roles).
LABEL_LENGTH = 200
#: Longest excerpt of a post shown.
SNIPPET_LENGTH = 500
#: Longest free text shown (reasons, summaries, messages).
TEXT_LENGTH = 2000
#: What marks the end of a cut text.
ELLIPSIS = "…"

#: Explicit bidirectional formatting characters: embeddings and overrides
#: (U+202A-U+202E), isolates (U+2066-U+2069) and the marks U+200E, U+200F, U+061C.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
#: Zero-width characters: space, non-joiner, joiner, word joiner, byte-order mark.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")

# Removed from display text: C0 controls but tab and line breaks, DEL and the C1
# controls but NEL (U+009B is a terminal escape), the bidi controls and zero-width
# characters above, and the other invisible format characters (Mongolian vowel
# separator, invisible operators U+2061-U+2064, deprecated format controls
# U+206A-U+206F, interlinear annotation marks U+FFF9-U+FFFB).
_REMOVED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f"
    "\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb]+"
)
_LINE_BREAKS = re.compile("\r\n|[\r\x85\u2028\u2029]")
# (single spaces are left alone: replacing each with itself is the slow part)
_BLANKS = re.compile(r"[^\S\n]{2,}|[^\S\n ]")
_BREAKS = re.compile(r" ?\n[ \n]*")
_WHITESPACE = re.compile(r"\s{2,}|[^\S ]")
#: Most characters of a value ever read for display, whatever ``max_length`` is.
_READ = 1 << 20


#: Most characters of one message written to the terminal.
TERMINAL_LENGTH = 20_000


def terminal_text(message: str, max_length: int = TERMINAL_LENGTH) -> str:
    """``message`` for the terminal: control, bidirectional and zero-width characters
    removed (a name holding U+202E would reverse the rest of the line), the layout
    (indents, line breaks) kept, and at most ``max_length`` characters (a 200,000
    character title quoted in a warning is cut, with an ellipsis).

    >>> terminal_text("  warning: Ann \u202eevil\u202c Lee")
    '  warning: Ann evil Lee'
    """
    text = message[: max_length + 1].encode("utf-8", "replace").decode("utf-8")
    text = _REMOVED.sub("", _LINE_BREAKS.sub("\n", text))
    return text if len(text) <= max_length else text[: max_length - 1] + ELLIPSIS


def _break(match: re.Match[str]) -> str:
    return "\n\n" if match.group().count("\n") > 1 else "\n"


def _already_clean(text: str, limit: int, one_line: bool) -> bool:
    """Whether :func:`display_text` would give ``text`` back as it is: no longer
    than ``limit``, nothing to remove, no white space to fold or strip.

    ``str.isprintable`` is false for every character the cleaning removes or
    changes (controls, format characters, surrogates, line and paragraph
    separators, every white space but the ASCII space), so printable text with
    single inner spaces is left alone; with ``one_line`` false, so is text whose
    only other characters are line breaks that need no folding (no space beside
    them, at most two in a row, none at either end). The maps show hundreds of
    thousands of snippets and names, almost all of them like that.
    """
    if type(text) is not str or len(text) > limit or "  " in text:
        return False
    if not text:
        return True
    if text[0] in " \n" or text[-1] in " \n":
        return False
    if text.isprintable():
        return True
    return (
        not one_line
        and " \n" not in text
        and "\n " not in text
        and "\n\n\n" not in text
        and text.replace("\n", "").isprintable()
    )


def _clean(piece: str, one_line: bool) -> str:
    """Remove what is never shown and fold white space, within one piece of text."""
    piece = piece.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    piece = _LINE_BREAKS.sub("\n", piece)
    piece = _REMOVED.sub("", piece)
    if one_line:
        return _WHITESPACE.sub(" ", piece)
    return _BREAKS.sub(_break, _BLANKS.sub(" ", piece))


def display_text(
    value: Any, *, max_length: int | None = TEXT_LENGTH, one_line: bool = False
) -> str:
    """Return ``value`` as text that is safe and short enough to show to a person.

    Control characters, bidirectional controls, zero-width and other invisible
    format characters are removed (lone surrogates become ``?``), runs of spaces
    become one space and runs of blank lines one blank line; with ``one_line``
    every line break becomes a space. Text longer than ``max_length`` is cut at a
    word boundary and ends with an ellipsis (``…``).

    Only as much of ``value`` is read as the result needs, in pieces, and never
    more than about a million characters (what lies beyond is marked as cut), so a
    name of fifty megabytes costs no more time or memory than one of a megabyte.

    Parameters
    ----------
    value : object
        Anything; ``None`` becomes the empty string, other objects their ``str()``.
    max_length : int or None
        Most characters of the result (the ellipsis included); ``None``: no cap.
    one_line : bool
        Fold line breaks into spaces.

    Returns
    -------
    str
        The display text, without leading or trailing white space.

    Examples
    --------
    >>> display_text("Anna \\u202eevil\\u202c Smith")
    'Anna evil Smith'
    >>> display_text("a very long name indeed", max_length=12)
    'a very long…'
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if max_length is None:
        if _already_clean(text, len(text), one_line):
            return text
        return _clean(text, one_line).strip()
    limit = max(1, int(max_length))
    if _already_clean(text, limit, one_line):
        return text
    out = ""
    start, step = 0, max(4096, 4 * limit)
    size = min(len(text), max(_READ, 64 * limit))
    while start < size:
        end = min(size, start + step)
        if text[end - 1] == "\r" and end < size:
            end += 1  # keep "\r\n" in one piece
        out = _clean(out + _clean(text[start:end], one_line), one_line)
        start, step = end, step * 2
        if len(out.strip()) > limit:
            break
    out = out.strip()
    if len(out) <= limit and start >= len(text):
        return out
    # Cut, or the value goes on beyond what is read: either way the end is marked.
    cut = out[: max(0, limit - 1)]
    space = cut.rfind(" ")
    if len(out) > limit and space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def display_label(value: Any, max_length: int = LABEL_LENGTH) -> str:
    """A name or label on one line, at most ``max_length`` characters (see
    :func:`display_text`)."""
    return display_text(value, max_length=max_length, one_line=True)
