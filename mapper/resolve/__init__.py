"""Resolve: from posts and their references to edge events between roster actors.

The roster (:func:`load_roster`) says who the actors are and how to recognize them;
:class:`Resolver` maps every post's author and references to actors (handles,
external ids, URL prefixes, names in text), creating provisional actors for unknown
accounts and reporting what did not resolve. The helpers it is built on are public:
:func:`normalize_url` and :class:`PrefixIndex` for web entities, :class:`NameMatcher`
for names and issue keywords in free text.
"""

from __future__ import annotations

from mapper.resolve.names import AmbiguousName, Match, NameMatcher, NameScan, alias_text, fold
from mapper.resolve.resolver import (
    REPORT_CATEGORIES,
    ReportEntry,
    Resolution,
    ResolutionReport,
    Resolver,
    snippet_around,
)
from mapper.resolve.roster import (
    HANDLE_PLATFORMS,
    ISSUE_KIND,
    ISSUES_FILE,
    Issue,
    Roster,
    RosterProblem,
    canonical_platform,
    clean_handle,
    handle_key,
    load_roster,
    validate_roster,
    write_roster_csv,
)
from mapper.resolve.urls import (
    PrefixIndex,
    normalize_url,
    prefix_key,
    profile_handle,
    url_domain,
)

__all__ = [
    "HANDLE_PLATFORMS",
    "ISSUES_FILE",
    "ISSUE_KIND",
    "REPORT_CATEGORIES",
    "AmbiguousName",
    "Issue",
    "Match",
    "NameMatcher",
    "NameScan",
    "PrefixIndex",
    "ReportEntry",
    "Resolution",
    "ResolutionReport",
    "Resolver",
    "Roster",
    "RosterProblem",
    "alias_text",
    "canonical_platform",
    "clean_handle",
    "fold",
    "handle_key",
    "load_roster",
    "normalize_url",
    "prefix_key",
    "profile_handle",
    "snippet_around",
    "url_domain",
    "validate_roster",
    "write_roster_csv",
]
