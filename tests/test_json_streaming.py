"""Top-level JSON arrays are streamed (issue 13 item 10): a pretty-printed or minified
array of any size is read an element at a time, in memory bounded by one chunk and one
element, with the same values as parsing it whole; a broken element costs that element
(or, for invalid JSON, the rest of the file), never what was read before it.
"""

from __future__ import annotations

import io
import json
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapper.collectors.base import JsonArrayStream, read_json_records
from mapper.collectors.mastodon import import_mastodon_file
from mapper.collectors.x_archive import import_archive, iter_archive
from mapper.store import Store

FIX = Path(__file__).parent / "fixtures"
FLAT = [
    json.loads(line)
    for line in (FIX / "x-api-v2" / "flat.jsonl").read_text(encoding="utf-8").splitlines()
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=25,
)


def x_posts(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` real flattened X posts (from the twarc2 fixture) with fresh ids."""
    rng = random.Random(seed)
    posts = []
    for n in range(count):
        post = dict(rng.choice(FLAT))
        post["id"] = str(10**17 + seed * 10**6 + n)
        posts.append(post)
    return posts


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    values=st.lists(json_values, max_size=12),
    indent=st.sampled_from([None, 0, 1, 2, "\t"]),
    chunk=st.sampled_from([64, 97, 1000, 1 << 20]),
    ascii_only=st.booleans(),
    trailing=st.sampled_from(["", "\n", "\r\n  \n"]),
)
def test_the_stream_reads_what_a_whole_parse_reads(
    values: list[Any], indent: Any, chunk: int, ascii_only: bool, trailing: str
) -> None:
    text = json.dumps(values, indent=indent, ensure_ascii=ascii_only) + trailing
    array = JsonArrayStream(io.BytesIO(text.encode()), chunk_size=chunk)
    elements = list(array)
    assert [e.error for e in elements] == [None] * len(values)
    assert [e.value for e in elements] == values
    assert [e.number for e in elements] == list(range(1, len(values) + 1))
    assert array.lines == text.count("\n") + (0 if text.endswith("\n") else 1)
    lines = text.split("\n")
    for element in elements:  # each element starts on the line it names
        head = json.dumps(element.value, indent=indent, ensure_ascii=ascii_only).split("\n")[0]
        assert head in lines[element.line - 1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_cut_array_keeps_every_element_before_the_cut(seed: int) -> None:
    posts = x_posts(30, seed)
    data = json.dumps(posts, indent=2).encode()
    rng = random.Random(seed)
    for cut in sorted(rng.sample(range(1, len(data) - 2), 25)):
        elements = list(JsonArrayStream(io.BytesIO(data[:cut]), chunk_size=4096))
        read = [e.value for e in elements if e.error is None]
        assert read == posts[: len(read)]
        assert elements[-1].error is not None and "invalid JSON" in elements[-1].error
        assert len(read) >= data[:cut].count(b"\n  },\n")  # every finished element


def test_an_element_that_is_not_utf8_is_the_only_one_lost() -> None:
    posts = x_posts(12, 5)
    data = json.dumps(posts, indent=2).encode()
    target = data.index(posts[6]["id"].encode())
    data = data[:target] + b"\xff\xfe" + data[target:]
    elements = list(JsonArrayStream(io.BytesIO(data), chunk_size=512))
    assert [e.value for e in elements if e.error is None] == posts[:6] + posts[7:]
    [bad] = [e for e in elements if e.error]
    line = data[:target].count(b"\n") + 1
    assert bad.number == 7 and bad.error == f"invalid UTF-8 at line {line}"
    assert bad.value.startswith("{")  # the excerpt starts with the element


def test_memory_stays_bounded_whatever_the_array_size() -> None:
    peaks = []
    for count in (150, 600):
        data = json.dumps(x_posts(count, count), indent=2).encode()
        tracemalloc.start()
        try:
            read = sum(1 for e in JsonArrayStream(io.BytesIO(data), chunk_size=1 << 16))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert read == count
    assert peaks[1] < 1.5 * peaks[0]  # four times the file, about the same memory
    assert peaks[1] < len(data) / 8


def test_an_x_archive_array_is_imported_in_bounded_memory(tmp_path: Path) -> None:
    posts = x_posts(800, 9)  # about 8 MB pretty-printed
    path = tmp_path / "posts.json"
    path.write_text(json.dumps(posts, indent=2), encoding="utf-8")
    tracemalloc.start()
    try:
        read = [p.uid for p in iter_archive(path)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == [f"x:{p['id']}" for p in posts]
    assert peak < path.stat().st_size / 1.5, (peak, path.stat().st_size)


def test_a_broken_x_array_keeps_what_came_before(tmp_path: Path) -> None:
    posts = x_posts(10, 4)
    text = json.dumps(posts, indent=2)
    broken = text.replace(f'"id": "{posts[7]["id"]}"', f'"id" "{posts[7]["id"]}"')
    path = tmp_path / "broken.json"
    path.write_text(broken, encoding="utf-8")
    with Store(":memory:") as store:
        result = import_archive(store, path)
        assert result.added == 7
        [row] = store.quarantined()
    start = text.rfind("\n  {", 0, text.index(f'"id": "{posts[7]["id"]}"')) + 1
    assert row["line"] == text[:start].count("\n") + 1  # the line element 8 starts on
    assert row["reason"].startswith("element 8: invalid JSON")
    assert row["reason"].endswith("the rest of the file cannot be read")


def test_a_mastodon_array_with_one_bad_status_keeps_the_others(tmp_path: Path) -> None:
    statuses = json.loads((FIX / "mastodon" / "statuses_page1.json").read_text("utf-8"))
    data = json.dumps(statuses, indent=2).encode()
    marker = data.index(b'"id": "104"')
    data = data[:marker] + b'"note": "\xff", ' + data[marker:]
    path = tmp_path / "statuses.json"
    path.write_bytes(data)
    records = list(read_json_records(path))
    assert [r.element for r in records] == [1, 2, 3]
    assert records[1].error and records[1].error.startswith("invalid UTF-8")
    with Store(":memory:") as store:
        result = import_mastodon_file(path, store=store)
        uids = {p.uid for p in store.iter_posts()}
        [row] = store.quarantined()
    assert result.quarantined == 1 and row["line"] == 2
    assert row["reason"].startswith("item 2 (line ") and "invalid UTF-8" in row["reason"]
    assert uids and not any(uid.endswith(":104") for uid in uids)


def test_a_small_pretty_printed_response_takes_little_memory(tmp_path: Path) -> None:
    """Regression: a document's first read set aside 512 MB whatever the file's size."""
    page = json.loads((FIX / "x-api-v2" / "mentions_tweet.jsonl").read_text("utf-8"))
    path = tmp_path / "response.json"
    path.write_text(json.dumps(page, indent=2), encoding="utf-8")
    tracemalloc.start()
    try:
        assert len(list(iter_archive(path))) == 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20  # one read of a megabyte, the document and its posts
