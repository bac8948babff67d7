"""Live collection from the Commons Votes API, offline: a fake API behind
:class:`httpx.MockTransport` serves the recorded fixtures (the three real divisions in
the API's shape, their search listing, the error bodies) and planted divisions made
from them; sleeping and clocks are injected, so nothing waits."""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from mapper.cli import app
from mapper.collectors import divisions as divisions_module
from mapper.collectors.divisions import (
    SEARCH_PAGE_SIZE,
    CommonsVotesAPI,
    collect_commons_divisions,
    import_division_file,
)
from mapper.errors import CollectorError, StoreError
from mapper.http import HttpClient, RetryPolicy
from mapper.store import Store
from tests.votes_support import FIXTURES

API = FIXTURES / "api"
BASE = "https://commonsvotes-api.parliament.uk/data"
runner = CliRunner()


def recorded(name: str) -> Any:
    return json.loads((API / name).read_text(encoding="utf-8"))


def real_divisions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (API / "divisions.jsonl").read_text("utf-8").splitlines()]


def planted_divisions(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` divisions in the API's shape: the real members, votes reshuffled."""
    rng = random.Random(seed)
    base = real_divisions()
    out = []
    for i in range(n):
        item = copy.deepcopy(base[i % 3])
        members = item["Ayes"] + item["Noes"]
        rng.shuffle(members)
        cut = rng.randint(100, len(members) - 100)
        item["Ayes"], item["Noes"] = members[:cut], members[cut:]
        item["AyeCount"], item["NoCount"] = cut, len(members) - cut
        item["DivisionId"] = 1000 + i
        item["Number"] = 500 + i
        item["Date"] = f"2019-04-{1 + i % 28:02d}T18:{i % 60:02d}:00"
        item["Title"] = f"Planted motion {i}"
        out.append(item)
    return out


class FakeAPI:
    """The two endpoints the collector uses, with failures on demand."""

    def __init__(self, divisions: list[dict[str, Any]]) -> None:
        self.divisions = {str(d["DivisionId"]): d for d in divisions}
        self.listing = list(divisions)
        self.requests: list[httpx.Request] = []
        #: division id -> answers (status, body, headers) served before the real one
        self.failures: dict[str, list[tuple[int, Any, dict[str, str]]]] = {}
        self.search_failure: tuple[int, Any] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/divisions.json/search"):
            if self.search_failure is not None:
                status, body = self.search_failure
                return httpx.Response(status, json=body)
            params = request.url.params
            skip = int(params["queryParameters.skip"])
            take = int(params["queryParameters.take"])
            term = params.get("queryParameters.searchTerm", "").casefold()
            start = params.get("queryParameters.startDate", "")
            end = params.get("queryParameters.endDate", "9999")
            found = [
                d
                for d in self.listing
                if term in d["Title"].casefold() and start <= d["Date"][:10] <= end
            ]
            page = [
                {**d, "Ayes": [], "Noes": [], "NoVoteRecorded": []}
                for d in found[skip : skip + take]
            ]
            return httpx.Response(200, json=page)
        match = re.search(r"/division/(\d+)\.json$", path)
        if match is None:
            return httpx.Response(404, json={"Message": "No HTTP resource was found"})
        division_id = match.group(1)
        queue = self.failures.get(division_id)
        if queue:
            status, body, headers = queue.pop(0)
            return httpx.Response(status, json=body, headers=headers)
        if division_id not in self.divisions:
            return httpx.Response(404, json={"title": "Not Found", "status": 404})
        return httpx.Response(200, json=self.divisions[division_id])

    def searches(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests if r.url.path.endswith("/search")]

    def fetched(self) -> list[str]:
        return [
            m.group(1)
            for r in self.requests
            if (m := re.search(r"/division/(\d+)\.json$", r.url.path)) is not None
        ]


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def api_for(fake: FakeAPI, sleeps: Sleeps | None = None) -> CommonsVotesAPI:
    client = HttpClient(
        transport=httpx.MockTransport(fake),
        sleep=sleeps if sleeps is not None else Sleeps(),
        monotonic=lambda: 0.0,
        policy=RetryPolicy(max_attempts=2, backoff_initial=1.0, rate_limit_wait=5),
        rng=random.Random(0),
    )
    return CommonsVotesAPI(client)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as st:
        yield st


def test_the_search_is_paged_and_every_division_archived_then_stored(
    store: Store, tmp_path: Path
) -> None:
    fake = FakeAPI(planted_divisions(30))
    sleeps = Sleeps()
    archive = tmp_path / "archives" / "commons.jsonl"
    result = collect_commons_divisions(
        store,
        start_date="2019-04-01",
        end_date="2019-04-30",
        archive_path=archive,
        api=api_for(fake, sleeps),
    )
    assert (result.pages, result.fetched, result.added, result.quarantined) == (2, 30, 30, 0)
    assert result.complete and result.votes == sum(
        len(d["Ayes"]) + len(d["Noes"]) + len(d["AyeTellers"]) + len(d["NoTellers"])
        + len(d["NoVoteRecorded"])
        for d in fake.listing
    )  # fmt: skip
    searches = fake.searches()
    assert [(s["queryParameters.skip"], s["queryParameters.take"]) for s in searches] == [
        ("0", str(SEARCH_PAGE_SIZE)),
        (str(SEARCH_PAGE_SIZE), str(SEARCH_PAGE_SIZE)),
    ]
    assert searches[0]["queryParameters.startDate"] == "2019-04-01"
    assert fake.fetched() == [str(1000 + i) for i in range(30)]
    # politeness: every request after the first waited its turn
    assert sleeps == [0.5] * (len(fake.requests) - 1)
    lines = archive.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30
    stamp = json.loads(lines[0])["__mapper"]
    assert stamp["url"] == f"{BASE}/division/1000.json" and stamp["retrieved_at"]
    stored = store.get_division("commons:2019-04-01/500")
    assert stored is not None and stored.division_id == "1000"
    assert stored.provenance.source == str(archive.resolve()) and stored.provenance.line == 1
    assert stored.provenance.retrieved_at is not None
    # the archive reads back as the same divisions
    again = import_division_file(store, archive)
    assert (again.divisions, again.duplicates) == (30, 30)


def test_an_interrupted_search_resumes_where_it_stopped(store: Store, tmp_path: Path) -> None:
    fake = FakeAPI(planted_divisions(30))
    fake.failures["1011"] = [(503, {"Message": "busy"}, {})] * 2  # beyond the attempts
    archive = tmp_path / "a.jsonl"
    with pytest.raises(CollectorError) as info:
        collect_commons_divisions(
            store, search_term="planted", archive_path=archive, api=api_for(fake)
        )
    assert "HTTP 503" in info.value.one_line() and "1011" in info.value.one_line()
    assert store.count_divisions() == 11  # what came before the failure is kept
    first_run = len(fake.requests)
    result = collect_commons_divisions(
        store, search_term="planted", archive_path=archive, api=api_for(fake)
    )
    assert result.complete and result.fetched == 19 and result.skipped == 0
    second = fake.requests[first_run:]
    assert second[0].url.params["queryParameters.skip"] == "11"
    assert store.count_divisions() == 30
    fetched = fake.fetched()
    assert sorted(set(fetched)) == sorted(str(1000 + i) for i in range(30))
    assert [f for f in fetched if f != "1011"] == sorted(set(fetched) - {"1011"})  # once each
    assert len(archive.read_text(encoding="utf-8").splitlines()) == 30


def test_a_budget_stops_and_the_next_run_continues(store: Store) -> None:
    fake = FakeAPI(planted_divisions(30))
    first = collect_commons_divisions(store, max_divisions=10, api=api_for(fake))
    assert (first.fetched, first.stopped_reason, first.cursor) == (10, "max-divisions", "10")
    assert "--max-divisions" in first.summary()
    second = collect_commons_divisions(store, api=api_for(fake))
    assert (second.fetched, second.complete) == (20, True)
    assert store.count_divisions() == 30 and len(fake.fetched()) == 30
    with pytest.raises(CollectorError, match="at least 1"):
        collect_commons_divisions(store, max_divisions=0, api=api_for(fake))


def test_stored_divisions_are_not_fetched_again(store: Store) -> None:
    fake = FakeAPI(planted_divisions(27))
    collect_commons_divisions(store, api=api_for(fake))
    before = len(fake.fetched())
    again = collect_commons_divisions(store, api=api_for(fake))
    assert (again.fetched, again.skipped, again.pages) == (0, 27, 2)
    assert len(fake.fetched()) == before
    refreshed = collect_commons_divisions(store, refresh=True, api=api_for(fake))
    assert (refreshed.fetched, refreshed.duplicates) == (27, 27)


def test_error_bodies_and_refusals(store: Store) -> None:
    fake = FakeAPI(planted_divisions(5))
    fake.search_failure = (400, recorded("error-400.json"))
    with pytest.raises(CollectorError) as info:
        collect_commons_divisions(store, start_date="2019-04-01", api=api_for(fake))
    line = info.value.one_line()
    assert "HTTP 400" in line and "One or more validation errors occurred" in line
    assert "queryParameters.startDate" in line and "\n" not in line
    fake.search_failure = None
    fake.failures["1001"] = [(404, {"title": "Not Found", "status": 404}, {})]
    fake.failures["1002"] = [(200, recorded("error-500.json"), {})]
    sleeps = Sleeps()
    fake.failures["1003"] = [(429, {"Message": "slow down"}, {"Retry-After": "7"})]
    result = collect_commons_divisions(store, api=api_for(fake, sleeps))
    assert (result.fetched, result.added, result.quarantined) == (4, 3, 2)
    assert 7.0 in sleeps
    reasons = [q["reason"] for q in store.quarantined()]
    assert any("HTTP 404" in r and "Not Found" in r for r in reasons)
    assert any("an API error body" in r and "An error has occurred" in r for r in reasons)
    assert store.count_divisions() == 3


def test_one_division_by_id(store: Store) -> None:
    fake = FakeAPI(real_divisions())
    result = collect_commons_divisions(store, division_ids=["655", 999], api=api_for(fake))
    assert (result.fetched, result.added, result.quarantined) == (1, 1, 1)
    assert fake.searches() == []
    division = store.get_division("commons:2019-03-27/386")
    assert division is not None and len(division.votes) == 649
    assert division.provenance.source == "commons-votes division 655"  # no archive: raw kept
    raw = store.conn.execute("SELECT raw FROM divisions").fetchone()[0]
    assert json.loads(raw)["DivisionId"] == 655
    again = collect_commons_divisions(store, division_ids=["655"], api=api_for(fake))
    assert (again.fetched, again.skipped) == (0, 1)


def test_the_archive_is_written_before_the_store(store: Store, tmp_path: Path, monkeypatch) -> None:
    fake = FakeAPI(real_divisions())
    archive = tmp_path / "a.jsonl"

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise StoreError("disk full", source="store.sqlite")

    monkeypatch.setattr(store, "add_divisions", broken)
    with pytest.raises(StoreError):
        collect_commons_divisions(
            store, division_ids=["658"], archive_path=archive, api=api_for(fake)
        )
    (line,) = archive.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["DivisionId"] == 658  # what was paid for is kept
    monkeypatch.undo()
    assert import_division_file(store, archive).added == 1


def test_bad_arguments_are_refused(store: Store) -> None:
    fake = FakeAPI([])
    with pytest.raises(CollectorError, match="not a date"):
        collect_commons_divisions(store, start_date="yesterday", api=api_for(fake))
    with pytest.raises(CollectorError, match="after the end date"):
        collect_commons_divisions(
            store, start_date="2020-01-02", end_date="2020-01-01", api=api_for(fake)
        )
    assert fake.requests == []


def test_the_collect_command(tmp_path: Path, monkeypatch) -> None:
    fake = FakeAPI(real_divisions())
    real = divisions_module.HttpClient

    def offline(**kwargs: Any) -> HttpClient:
        return real(transport=httpx.MockTransport(fake), sleep=lambda s: None, **kwargs)

    monkeypatch.setattr(divisions_module, "HttpClient", offline)
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "mapper.toml").write_text('[project]\noutput = "out"\n', encoding="utf-8")
    args = ["votes", "collect", "--from", "2019-03-27", "--to", "2019-03-27"]
    result = runner.invoke(app, [*args, "--project", str(folder / "mapper.toml"), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert (counts["fetched"], counts["added"]) == (3, 3)
    archive = folder / "out" / "archives" / "commons-votes.jsonl"
    assert len(archive.read_text(encoding="utf-8").splitlines()) == 3
    fake.search_failure = (400, recorded("error-400.json"))
    result = runner.invoke(app, [*args, "--no-resume", "--project", str(folder / "mapper.toml")])
    assert result.exit_code == 1 and "HTTP 400" in result.output
