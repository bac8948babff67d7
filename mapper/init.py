"""Starting a project: ``mapper init DIR`` writes a commented project file, an empty
roster with its header and two example rows, an issues file and a README for the
folder, so a new user edits files instead of reading a specification first."""

from __future__ import annotations

from pathlib import Path

from mapper.errors import ConfigError
from mapper.fsutil import write_text

PROJECT_TOML = """\
# mapper project file. Every path is relative to this file.
# Run it with:   mapper run mapper.toml
# Check it with: mapper check mapper.toml

[project]
name = "{name}"
roster = "roster.csv"          # who is who: see the header of roster.csv
output = "outputs"             # maps, exports and the report go here (beside this file)
# store = "store.sqlite"       # default: store.sqlite inside the output folder

# Sources are read in order. File sources are re-read only when the file changed.
# Live sources (remote APIs) run only with `mapper run --collect`.
#
# [[sources]]
# type = "x-archive"           # twarc2 JSONL or X API v2 response JSON
# path = "archives/*.jsonl"
# include_referenced = false   # true: also import the posts they reply to, quote or
#                              # repost, with their own mentions (changes the graph)
#
# [[sources]]
# type = "html"                # saved web pages
# path = "pages/*.html"
#
# [[sources]]
# type = "feed"                # RSS/Atom: a file (path = ...) or a URL (url = ...)
# url = "https://example.org/feed.xml"
#
# [[sources]]
# type = "edges-csv"           # a table of ready-made edges: source,target[,weight,type,time,url]
# path = "edges.csv"
#
# [[sources]]
# type = "x-search"            # live X search (needs X_BEARER_TOKEN; reads are paid)
# query = "\\"progressive alliance\\" lang:en"
# max_posts = 500
#
# [[sources]]
# type = "bluesky-posts"       # a Bluesky account's posts (public)
# handle = "example.bsky.social"
#
# [[sources]]
# type = "mastodon-posts"      # a Mastodon account's public posts
# account = "user@instance.social"

[graph]
# Weight of one reference of each kind; an edge's weight is the sum of its references.
weights = {{ mention = 1.0, reply = 1.0, repost = 2.0, quote = 1.5, link = 1.0, name = 0.5 }}
min_weight = 0                 # drop weaker edges
drop_provisional = false       # true: leave out accounts that are not in the roster
# since = 2016-07-01           # time window (dates or ISO times, UTC): since included,
# until = 2016-10-01           # until excluded (this one keeps July to September)
# kinds = ["mp", "commentator", "organisation"]

[factions]
method = "leiden"              # leiden (default) or louvain
resolution = 1.0               # higher: more, smaller factions (try `mapper factions --sweep`)
runs = 10                      # seeds for the consensus and the stability scores
seed = 42

[bridges]
top = 20

[maps]
node_budget = 1500             # above this, maps show a reduced graph and say so
focus = []                     # actor ids: one neighbourhood map each

[exports]
formats = ["gexf", "graphml", "json", "csv", "parquet"]
"""

ROSTER_CSV = """\
# One actor a row; separate several values in a cell with ";". Lines starting with # are comments.
id,name,kind,party,faction,aliases,x,bluesky,mastodon,domains,wikidata,issues
example-mp,Example MP (replace me),mp,Example Party,example faction,Example MP;E. MP,example_mp,,,example-mp.example.org,,example-issue
example-campaign,Example Campaign (replace me),campaign,,,Example Campaign,example_campaign,examplecampaign.bsky.social,,example-campaign.example.org,,example-issue
"""  # noqa: E501

ISSUES_CSV = """\
id,name,aliases
example-issue,example issue (replace me),example issue;another way to say it
"""

README = """\
# {name}

A mapper project.

1. List the people and organisations you follow in `roster.csv` (one row each:
   id, name, kind, party, an optional faction, aliases, handles on X, Bluesky and
   Mastodon, web domains). Kinds: commentator, mp, organisation, party, media,
   union, campaign, other. Separate several values in one cell with `;`.
2. List the issues you care about in `issues.csv` with the words that signal them.
3. Add your sources to `mapper.toml` (archives, saved pages, feeds, live searches).
4. `mapper check mapper.toml` finds problems; `mapper run mapper.toml` builds
   everything into `outputs/`; `mapper roster suggest` lists who is mentioned often
   but missing from the roster.
"""


def init_project(folder: str | Path, *, name: str | None = None, force: bool = False) -> list[Path]:
    """Write a new project into ``folder`` and return the files written.

    Parameters
    ----------
    folder : str or Path
        Created if missing.
    name : str, optional
        The project's name (default: the folder's name).
    force : bool
        Overwrite files that exist already.

    Raises
    ------
    ConfigError
        When ``folder`` already holds a project file and ``force`` is false.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = name or folder.resolve().name
    files = {
        "mapper.toml": PROJECT_TOML.format(name=name.replace('"', "'")),
        "roster.csv": ROSTER_CSV,
        "issues.csv": ISSUES_CSV,
        "README.md": README.format(name=name),
    }
    existing = [f for f in files if (folder / f).exists()]
    if existing and not force:
        raise ConfigError(
            f"{', '.join(existing)} already there",
            source=folder,
            hint="use --force to overwrite, or choose another folder",
        )
    return [write_text(folder / f, text) for f, text in files.items()]
