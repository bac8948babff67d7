"""The exception hierarchy of mapper.

Every error the library raises on purpose derives from :class:`MapperError`. Each
subsystem has its own subclass carrying the context a user needs to fix the problem
(file, line, field). The command line turns any ``MapperError`` into one line on
stderr and exit code 1; the library itself never prints.
"""

from __future__ import annotations

from pathlib import Path


class MapperError(Exception):
    """Root of every error mapper raises on purpose.

    Parameters
    ----------
    message : str
        What went wrong, in words a user understands.
    source : str or Path, optional
        The file, URL or query the problem is in.
    line : int, optional
        1-based line (or record) number inside ``source``.
    field : str, optional
        The column, key or option at fault.
    hint : str, optional
        What to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.source = str(source) if source is not None else None
        self.line = line
        self.field = field
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return ``file:line: field: message (hint)`` with the parts that are known."""
        where = ""
        if self.source:
            where = self.source
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        what = f"{self.field}: " if self.field else ""
        text = f"{where}{what}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        # one line whatever the input held (\r, \u2028 and the like split lines too)
        return " ".join(text.splitlines())


class ConfigError(MapperError):
    """The project file (``mapper.toml``) or an option is invalid."""


class RosterError(MapperError):
    """The roster is invalid: duplicate id, unknown kind, a handle claimed twice..."""


class StoreError(MapperError):
    """The SQLite store cannot be opened, read or written."""


class ImportFormatError(MapperError):
    """An input file is unusable as a whole (wrong format, empty, unreadable)."""


class CollectorError(MapperError):
    """A collector failed: network, credentials, a remote API refused the request."""


class CredentialsError(CollectorError):
    """Credentials are missing or were refused (401/403)."""


class RateLimitError(CollectorError):
    """A remote API's rate limit was hit and waiting is not allowed or not possible."""


class GraphError(MapperError):
    """The graph cannot be built or filtered as asked."""


class AnalysisError(MapperError):
    """An analysis (factions, bridges, alliances) cannot run on this graph."""


class RenderError(MapperError):
    """A map, image or report cannot be written."""


class ExportError(MapperError):
    """An export cannot be written."""
