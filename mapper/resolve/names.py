"""Find roster names and issue keywords in free text.

:class:`NameMatcher` compiles every alias into one Aho-Corasick automaton
(pyahocorasick) and runs it once over the folded text; the Python work happens only
on the automaton's hits (a boundary and case check), so the cost is one pass in C over
the text whatever the number of aliases. Both the aliases and the text are folded to
lowercase letters and digits with every other character turned into a space, and each
alias is stored as ``" alias "``: the automaton can then only hit whole words, which
keeps hits (and Python work) rare. Folding is length-preserving in the common case
(ASCII, and non-ASCII letters that NFKC and case folding leave alone), done with byte
tables in C; other texts take a slower path that keeps an offset map.

Rules, in the order they apply:

1. **Normalization.** Text and aliases are compared after NFKC normalization and
   case folding, with every character that is not a letter or digit (spaces,
   punctuation, apostrophes straight or curly, no-break spaces, newlines) counting
   as one separator: "Ellie-Mae O’Hagan" matches "Ellie Mae O'Hagan", and "Owen
   Jones" matches it across a line break (but not with two spaces in between). Offsets in
   the returned matches always refer to the original text: ``text[m.start:m.end]``
   is what was written.
2. **Whole words.** A hit counts only if the characters on both sides are not
   letters, digits, ``_`` or combining marks ("Lewis" does not match inside
   "Lewisham"). An apostrophe glued to a preceding letter is part of a word
   ("Hagan" does not match inside "O'Hagan"); after a name, ``'s`` and a bare ``'``
   are allowed (possessives: "Owen Jones's", "O’Hagan’s", "the Joneses'"), but any
   other letter after an apostrophe is not ("Don" does not match "Don't").
3. **Case.** Aliases of several words match in any case. A single-word alias
   written with capitals in the roster needs those capitals in the text ("Mason"
   matches "Mason" and "MASON" but not "mason"; "PR" does not match "pr"); a
   single-word alias written all in lowercase matches in any case.
4. **Overlaps.** Among overlapping hits the leftmost wins, then the longest
   ("Owen Jones" and not "Jones" in "Owen Jones").
5. **Ambiguous surnames.** A single-word alias (a surname like "Jones") is *weak*
   when its actor also has a name or alias of several words: it counts only when the
   same text also contains a strong match for that actor ("Owen Jones ... Jones
   argued" resolves both; "Jones argued" alone resolves nothing). A single-word
   alias is *strong* when its actor has no alias of several words, or when it is
   marked with a trailing ``!`` (``Corbyn!``); the roster marks every actor's own
   name this way, so an organisation called "Compass" is found by its name. An
   alias (of any length) claimed by two or more actors is never resolved on its
   own: it resolves only if exactly one of those actors has a strong match in the
   same text, and is otherwise reported as ambiguous.

Issue keywords use the same machinery with ``require_full_name=False`` (every
single-word keyword is strong unless two issues share it).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import ahocorasick

from mapper.errors import RosterError

__all__ = [
    "MAX_ALIAS_CHARS",
    "AmbiguousName",
    "Match",
    "NameMatcher",
    "NameScan",
    "alias_text",
    "fold",
]

#: Characters replaced one-for-one before matching (so offsets stay valid).
_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("\u02bc", "'"),
    ("\u201b", "'"),
    ("\uff07", "'"),
    ("\u00a0", " "),
    ("\u202f", " "),
    ("\u2007", " "),
    ("\u2009", " "),
    ("\u200a", " "),
    ("\u3000", " "),
)
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u201b\uff07")
_MAY_GLUE = _APOSTROPHES | {"_"}
UNAMBIGUOUS_MARK = "!"
#: The longest alias a matcher takes (characters, after folding). The automaton is a
#: trie with one node a character, freed recursively: an alias of about half a million
#: characters overflowed the C stack (a segfault). Rosters refuse far shorter values.
MAX_ALIAS_CHARS = 1000
# Joins texts in scan_many: two separators, so no alias (single spaces) spans texts.
_JOINER = "\n\n"


def _is_word(char: str) -> bool:
    return (
        char.isalnum()
        or char == "_"
        or (char > "\x7f" and unicodedata.category(char).startswith("M"))
    )


def _prepare(text: str) -> str:
    """Apply the one-for-one replacements of non-ASCII characters (length-preserving)."""
    if not text.isascii():
        for char, replacement in _REPLACEMENTS:
            if char in text:
                text = text.replace(char, replacement)
    return text


# Lowercase ASCII letters and digits, every other ASCII character becomes a space;
# bytes >= 0x80 (UTF-8 continuation and lead bytes) are left alone.
_SEPARATE_ASCII = bytes(
    ord(chr(i).lower()) if chr(i).isalnum() else ord(" ") for i in range(128)
) + bytes(range(128, 256))
_NON_ASCII_SEPARATOR = re.compile(r"[^\x00-\x7f\w]")


def _separate(folded: str) -> str:
    """Turn every character that cannot be part of a word into a space (length-preserving).

    Keys and texts both go through this, so an automaton key ``" " + key`` can only
    match at the start of the text or right after a separator.
    """
    if folded.isascii():
        return folded.encode("ascii").translate(_SEPARATE_ASCII).decode("ascii")
    raw = folded.encode("utf-8", "surrogatepass").translate(_SEPARATE_ASCII)
    return _NON_ASCII_SEPARATOR.sub(" ", raw.decode("utf-8", "surrogatepass"))


_ASCII_BYTES = bytes(range(128))
_REPLACED = frozenset(char for char, _ in _REPLACEMENTS)
_KEEP, _SEPARATOR, _FULL = 0, 1, 2
_CHAR_CLASSES: dict[str, int] = {}


def _char_class(char: str) -> int:
    """How the fast path treats a non-ASCII character: kept as it is (a letter that
    folding leaves alone), turned into a space (a separator), or not at all (the text
    needs full NFKC folding)."""
    found = _CHAR_CLASSES.get(char)
    if found is not None:
        return found
    code = ord(char)
    normal = unicodedata.normalize("NFKC", char)
    if char in _REPLACED:
        found = _SEPARATOR
    elif unicodedata.combining(char) or 0x1100 <= code <= 0x11FF or 0xA960 <= code <= 0xD7FF:
        found = _FULL  # may compose with its neighbours
    elif not char.isalnum():
        found = _FULL if any(c.isalnum() for c in normal) else _SEPARATOR
    elif normal != char or char.casefold() != char:
        found = _FULL
    else:
        found = _KEEP
    if len(_CHAR_CLASSES) < 65536:
        _CHAR_CLASSES[char] = found
    return found


def _fast_fold(text: str) -> str | None:
    """Fold and separate ``text`` in a few C-level passes, or return ``None`` when it
    holds characters that need full NFKC folding.

    ASCII is lowercased through a byte table; non-ASCII letters that NFKC and case
    folding leave alone are kept; other non-ASCII characters become spaces.
    """
    if text.isascii():
        return text.encode("ascii").translate(_SEPARATE_ASCII).decode("ascii")
    raw = text.encode("utf-8", "surrogatepass")
    others = set(raw.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass"))
    out = raw.translate(_SEPARATE_ASCII).decode("utf-8", "surrogatepass")
    for char in others:
        kind = _char_class(char)
        if kind == _SEPARATOR:
            out = out.replace(char, " ")
        elif kind == _FULL:
            return None
    return out


def fold(text: str) -> str:
    """Return the matching form of a name: NFKC, case-folded, plain apostrophes and
    single spaces.

    >>> fold("  Ellie-Mae  O’HAGAN ")
    "ellie-mae o'hagan"
    """
    text = _prepare(unicodedata.normalize("NFKC", text))
    return " ".join(text.casefold().split())


def alias_text(alias: str) -> tuple[str, bool]:
    """Split a roster alias into its text and whether it is marked unambiguous.

    A trailing ``!`` marks a single-word alias that counts on its own.

    >>> alias_text("Corbyn!")
    ('Corbyn', True)
    >>> alias_text("Owen Jones")
    ('Owen Jones', False)
    """
    stripped = alias.strip()
    if stripped.endswith(UNAMBIGUOUS_MARK):
        return stripped[: -len(UNAMBIGUOUS_MARK)].strip(), True
    return stripped, False


class Match(NamedTuple):
    """One resolved name in a text: ``text[start:end]`` refers to ``actor_id``.

    ``alias`` is the roster alias (without the ``!`` mark) that matched.
    """

    actor_id: str
    start: int
    end: int
    alias: str


class AmbiguousName(NamedTuple):
    """A name found in a text that could not be resolved to one actor.

    ``candidates`` are the actor ids the alias may refer to.
    """

    alias: str
    start: int
    end: int
    candidates: tuple[str, ...]


class NameScan(NamedTuple):
    """The result of :meth:`NameMatcher.scan`: resolved and unresolved names, by offset."""

    matches: tuple[Match, ...]
    ambiguous: tuple[AmbiguousName, ...]


_NOTHING = NameScan((), ())


@dataclass(slots=True)
class _Pattern:
    alias: str
    actors: tuple[str, ...]
    strong: bool
    uppercase: tuple[int, ...] | None  # positions that must be capitals; None: any case


class NameMatcher:
    """Multi-pattern, whole-word matcher of aliases in free text.

    Parameters
    ----------
    patterns : mapping or iterable of pairs
        Either a mapping ``{alias: actor_id or [actor ids]}`` (an alias several actors
        share maps to all of them) or an iterable of ``(alias, actor_id)`` pairs. An
        actor's name is one of its aliases. A trailing ``!`` on an alias marks it
        unambiguous (see the module docstring). :meth:`from_actors` takes
        ``{actor_id: [aliases]}`` instead.
    require_full_name : bool, default True
        Apply the ambiguous-surname rule. With ``False`` every alias claimed by a single
        actor is strong (used for issue keywords).

    Examples
    --------
    >>> m = NameMatcher({"Owen Jones": "owen-jones", "Jones": "owen-jones", "Compass": "compass"})
    >>> [(x.actor_id, x.alias) for x in m.find("Owen Jones’s piece for Compass")]
    [('owen-jones', 'Owen Jones'), ('compass', 'Compass')]
    >>> m.find("Jones said so; a moral compass")
    []

    Notes
    -----
    Cost: a few C-level passes to fold the text, one pass of the automaton, and
    constant Python work per whole-word hit. Measured with 10,000 aliases on English
    text where 30% of posts name someone: about 50 MB/s of CPU time for 280-character
    posts (one by one or with :meth:`scan_many`) and 60 MB/s for 64 KB documents.
    Texts with characters that NFKC changes (ligatures, full-width forms, decomposed
    accents, "ß") fold those stretches one by one and are slower.
    """

    def __init__(
        self,
        patterns: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]],
        *,
        require_full_name: bool = True,
    ) -> None:
        pairs: list[tuple[str, str]] = []
        if isinstance(patterns, Mapping):
            for alias, actor_ids in patterns.items():
                if isinstance(actor_ids, str):
                    actor_ids = [actor_ids]
                pairs.extend((alias, str(actor_id)) for actor_id in actor_ids)
        else:
            pairs = [(alias, str(actor_id)) for alias, actor_id in patterns]
        self.require_full_name = require_full_name
        self._patterns: list[_Pattern] = []
        self._lengths: list[int] = []
        self._uppercase: list[tuple[int, ...] | None] = []
        self._strong: list[str | None] = []  # the actor of a strong alias, else None
        self._aliases: list[str] = []
        self._build(pairs)

    @classmethod
    def from_actors(
        cls, aliases: Mapping[str, str | Sequence[str]], *, require_full_name: bool = True
    ) -> NameMatcher:
        """Build a matcher from ``{actor_id: alias or [aliases]}``.

        >>> m = NameMatcher.from_actors({"owen-jones": ["Owen Jones", "Jones"]})
        >>> [x.actor_id for x in m.find("Owen Jones, and Jones again")]
        ['owen-jones', 'owen-jones']
        """
        pairs: list[tuple[str, str]] = []
        for actor_id, names in aliases.items():
            if isinstance(names, str):
                names = [names]
            pairs.extend((alias, str(actor_id)) for alias in names)
        return cls(pairs, require_full_name=require_full_name)

    def _build(self, pairs: list[tuple[str, str]]) -> None:
        # automaton key -> {actor: [alias, marked, several words, capital positions]}
        by_key: dict[str, dict[str, list[Any]]] = {}
        multiword: set[str] = set()
        for raw, actor_id in pairs:
            if not isinstance(raw, str):
                continue
            if len(raw) > MAX_ALIAS_CHARS * 4:  # before folding, which could take long
                raise _too_long(raw, actor_id)
            alias, marked = alias_text(raw)
            words = fold(alias)
            if len(words) > MAX_ALIAS_CHARS:
                raise _too_long(raw, actor_id)
            key = _separate(words)
            if not key.strip():
                continue
            several = " " in words
            uppercase: tuple[int, ...] | None = None
            if several:
                multiword.add(actor_id)
            else:
                display = _prepare(unicodedata.normalize("NFKC", alias))
                capitals = tuple(i for i, c in enumerate(display) if c.isupper())
                if capitals and len(display) == len(key):
                    uppercase = capitals
                elif capitals and display[:1].isupper():
                    uppercase = (0,)
            actors = by_key.setdefault(key, {})
            known = actors.get(actor_id)
            if known is None:
                actors[actor_id] = [alias, marked, several, uppercase]
            else:
                known[1] = known[1] or marked
                known[2] = known[2] or several
                known[3] = _common_capitals(known[3], uppercase)
        automaton = ahocorasick.Automaton()
        for key, actors in by_key.items():
            ids = tuple(sorted(actors))
            alias, marked, several, uppercase = actors[ids[0]]
            for other in ids[1:]:
                uppercase = _common_capitals(uppercase, actors[other][3])
            strong = len(ids) == 1 and (
                several or marked or not self.require_full_name or ids[0] not in multiword
            )
            automaton.add_word(f" {key} ", len(self._patterns))
            self._patterns.append(_Pattern(alias, ids, strong, uppercase))
            self._lengths.append(len(key))
            self._uppercase.append(uppercase)
            self._strong.append(ids[0] if strong else None)
            self._aliases.append(alias)
        self._automaton = automaton if self._patterns else None
        if self._automaton is not None:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        """Number of distinct (folded) aliases."""
        return len(self._patterns)

    def find(self, text: str) -> list[Match]:
        """Return the resolved names in ``text``, ordered by position.

        Parameters
        ----------
        text : str
            Any text.

        Returns
        -------
        list of Match
            Non-overlapping matches; see the module docstring for the rules.
        """
        hits = self._hits(text)
        return list(self._select(hits).matches) if hits else []

    def scan(self, text: str) -> NameScan:
        """Return resolved names and the names that stayed ambiguous, by position."""
        hits = self._hits(text)
        return self._select(hits) if hits else _NOTHING

    def scan_many(self, texts: Sequence[str]) -> list[NameScan]:
        """:meth:`scan` each of ``texts``, in one pass of the automaton.

        Many short texts (posts) are matched several times faster this way than one
        by one: the texts are joined with a double line break, which no alias can
        cross, and the hits are sorted back to their text.

        Parameters
        ----------
        texts : sequence of str
            The texts (``None`` counts as empty).

        Returns
        -------
        list of NameScan
            One per text, in order, with offsets into that text.
        """
        texts = [text or "" for text in texts]
        if len(texts) == 1:
            return [self.scan(texts[0])]
        offsets: list[int] = []
        position = 0
        for text in texts:
            offsets.append(position)
            position += len(text) + len(_JOINER)
        buckets: dict[int, list[tuple[int, int, int]]] = {}
        for start, negative_end, pid in self._hits(_JOINER.join(texts)):
            index = bisect_right(offsets, start) - 1
            base = offsets[index]
            buckets.setdefault(index, []).append((start - base, negative_end + base, pid))
        scans = [_NOTHING] * len(texts)
        for index, bucket in buckets.items():
            scans[index] = self._select(bucket)
        return scans

    def _select(self, hits: list[tuple[int, int, int]]) -> NameScan:
        """Leftmost-longest hits, then the surname rule (see the module docstring)."""
        if not hits:
            return _NOTHING
        strong = self._strong
        aliases = self._aliases
        matches: list[Match] = []
        weak: list[tuple[int, int, int]] = []
        present: set[str] = set()
        reach = -1
        if len(hits) > 1:
            hits.sort()  # (start, -end, pid): leftmost first, then longest
        for start, negative_end, pid in hits:
            if start < reach:
                continue
            reach = -negative_end
            actor_id = strong[pid]
            if actor_id is None:
                weak.append((start, reach, pid))
            else:
                present.add(actor_id)
                matches.append(Match(actor_id, start, reach, aliases[pid]))
        if not weak:
            return NameScan(tuple(matches), ())
        ambiguous: list[AmbiguousName] = []
        resolved = len(matches)
        for start, end, pid in weak:
            pattern = self._patterns[pid]
            found = [a for a in pattern.actors if a in present] if present else []
            if len(found) == 1:
                matches.append(Match(found[0], start, end, pattern.alias))
            else:
                ambiguous.append(AmbiguousName(pattern.alias, start, end, pattern.actors))
        if resolved and len(matches) > resolved:
            matches.sort(key=_start_of)
        return NameScan(tuple(matches), tuple(ambiguous))

    def _hits(self, text: str) -> list[tuple[int, int, int]]:
        """Hits on word boundaries that pass the case rule, as ``(start, -end, pid)``."""
        if self._automaton is None or not text:
            return []
        separated = _fast_fold(text)
        if separated is None:
            prepared = _prepare(text)
            if not unicodedata.is_normalized("NFKC", prepared):
                return self._hits_mapped(text, prepared)
            folded = prepared.casefold()
            if len(folded) != len(text):
                return self._hits_mapped(text, prepared)
            separated = _separate(folded)
        lengths = self._lengths
        uppercase = self._uppercase
        n = len(text)
        hits: list[tuple[int, int, int]] = []
        # Keys are " alias ": a hit ending at index e of " " + folded + " " covers
        # folded[e - length - 1 : e - 1], which lines up with the original text.
        for e, pid in self._automaton.iter(f" {separated} "):
            end = e - 1
            start = end - lengths[pid]
            # The folded text has separators on both sides of the hit, so only "_",
            # apostrophes and non-ASCII marks can glue it to a neighbouring word.
            if start > 0:
                before = text[start - 1]
                if (before in _MAY_GLUE or before > "\x7f") and _glued_before(text, start, before):
                    continue
            if end < n:
                after = text[end]
                if (after in _MAY_GLUE or after > "\x7f") and _glued_after(text, end, after, n):
                    continue
            upper = uppercase[pid]
            if upper is not None:
                for i in upper:
                    if not text[start + i].isupper():
                        break
                else:
                    hits.append((start, -end, pid))
                continue
            hits.append((start, -end, pid))
        return hits

    def _hits_mapped(self, text: str, prepared: str) -> list[tuple[int, int, int]]:
        """:meth:`_hits` for texts whose folding changes lengths (keeps an offset map)."""
        folded, starts, ends = _offset_map(prepared)
        size = len(folded)
        lengths = self._lengths
        uppercase = self._uppercase
        n = len(text)
        hits: list[tuple[int, int, int]] = []
        for e, pid in self._automaton.iter(f" {_separate(folded)} "):  # type: ignore[union-attr]
            length = lengths[pid]
            first, last = e - length - 1, e - 2
            start, end = starts[first], ends[last]
            # the hit must cover whole characters of the original text
            if (first > 0 and starts[first - 1] == start) or (
                last + 1 < size and ends[last + 1] == end
            ):
                continue
            if start > 0 and _glued_before(text, start, text[start - 1]):
                continue
            if end < n and _glued_after(text, end, text[end], n):
                continue
            upper = uppercase[pid]
            if upper is not None:
                if end - start == length:
                    if not all(text[start + i].isupper() for i in upper):
                        continue
                elif not text[start].isupper():
                    continue
            hits.append((start, -end, pid))
        return hits


def _too_long(alias: str, actor_id: str) -> RosterError:
    return RosterError(
        f"an alias of {actor_id!r} is {len(alias):,} characters long "
        f"(at most {MAX_ALIAS_CHARS:,}): {alias[:40]!r}…",
        field="aliases",
    )


def _glued_before(text: str, start: int, before: str) -> bool:
    """Whether ``before`` (the character before a hit) makes it part of a longer word."""
    if _is_word(before):
        return True
    # "Hagan" inside "O'Hagan"
    return before in _APOSTROPHES and start > 1 and text[start - 2].isalpha()


def _glued_after(text: str, end: int, after: str, n: int) -> bool:
    """Whether ``after`` (the character after a hit) makes it part of a longer word;
    a possessive ``'s`` or a bare ``'`` does not ("Jones's"), other letters do ("Don't")."""
    if _is_word(after):
        return True
    return (
        after in _APOSTROPHES
        and end + 1 < n
        and _is_word(text[end + 1])
        and (text[end + 1] not in "sS" or (end + 2 < n and _is_word(text[end + 2])))
    )


def _start_of(match: Match) -> int:
    return match.start


def _common_capitals(
    first: tuple[int, ...] | None, second: tuple[int, ...] | None
) -> tuple[int, ...] | None:
    """Capital positions required by both spellings of one alias (``None``: any case)."""
    if first is None or second is None:
        return None
    return tuple(sorted(set(first) & set(second))) or None


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _offset_map(text: str) -> tuple[str, list[int], list[int]]:
    """Fold ``text`` (already through :func:`_prepare`) keeping, for every folded
    character, the span of original characters it came from.

    Only the stretches that need NFKC (characters of class ``_FULL``, with the base
    character a combining mark sits on) are folded piece by piece; the rest is case
    folded in bulk.
    """
    spans: list[list[int]] = []
    for run in _NON_ASCII_RUN.finditer(text):
        for position in range(run.start(), run.end()):
            char = text[position]
            if _char_class(char) != _FULL:
                continue
            first = position - 1 if position > 0 and unicodedata.combining(char) else position
            if spans and first <= spans[-1][1]:
                spans[-1][1] = position + 1
            else:
                spans.append([first, position + 1])
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def verbatim(a: int, b: int) -> None:
        piece = text[a:b].casefold()
        if len(piece) == b - a:
            pieces.append(piece)
            starts.extend(range(a, b))
            ends.extend(range(a + 1, b + 1))
        else:  # pragma: no cover - a character whose case folding expands
            for i in range(a, b):
                folded(i, i + 1)

    def folded(a: int, b: int) -> None:
        piece = unicodedata.normalize("NFKC", text[a:b]).casefold()
        pieces.append(piece)
        starts.extend([a] * len(piece))
        ends.extend([b] * len(piece))

    position = 0
    for first, last in spans:
        if position < first:
            verbatim(position, first)
        folded(first, last)
        position = last
    if position < len(text):
        verbatim(position, len(text))
    return "".join(pieces), starts, ends
