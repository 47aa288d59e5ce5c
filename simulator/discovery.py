"""The Google Health API's discovery document, and the facts the simulator reads off it.

The document (``health.v4.json``) ships inside google-api-python-client's discovery cache (a
development dependency, pinned in requirements-dev.txt); it is found through the installed package,
never a hard-coded path. What the simulator does not model itself it takes from here, so a data type
added to the catalogue needs no list kept in the simulator:

- ``point_types()`` / ``rollup_types()``: every data type the API serves through list / reconcile and
  through rollUp / dailyRollUp (the ``DataPoint`` and ``RollupDataPoint`` unions, kebab-cased); types the
  catalogue does not model answer with no data, as the API does for a type a user never recorded;
- ``rollup_max_days(path_id)``: the range cap of a rollup (14 days for the few types the
  ``range`` description names, 90 otherwise);
- ``daily_rollup_page_max(path_id)``: dailyRollUp's default and maximum page size (90, or 14 for the
  types its ``pageSize`` description names).

The caps are read from the descriptions' wording; if a revision rewords them, ``DiscoveryFactMissing``
says so at start-up instead of the simulator guessing.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from functools import cache
from typing import Any

__all__ = ["DiscoveryFactMissing", "daily_rollup_page_max", "document", "kebab", "point_types", "rollup_max_days",
           "rollup_types", "schemas"]

_NAMES = re.compile(r"`([a-z][a-z0-9-]*)`")


class DiscoveryFactMissing(LookupError):
    """The discovery document no longer states a fact the simulator reads from it."""


@cache
def document() -> dict[str, Any]:
    """The bundled ``health.v4.json`` discovery document."""
    documents = importlib.resources.files("googleapiclient") / "discovery_cache" / "documents"
    return json.loads((documents / "health.v4.json").read_text(encoding="utf-8"))


def schemas() -> dict[str, Any]:
    return document()["schemas"]


def kebab(camel: str) -> str:
    """A union member's JSON key as the type's path id: ``heartRate`` -> ``heart-rate``."""
    return re.sub(r"(?<!^)([A-Z])", lambda m: "-" + m.group(1).lower(), camel)


@cache
def point_types() -> frozenset[str]:
    """Every type readable through list / reconcile: the ``DataPoint`` union's members."""
    return frozenset(kebab(k) for k in schemas()["DataPoint"]["properties"]) - {"name", "data-source"}


@cache
def rollup_types() -> frozenset[str]:
    """Every type readable through rollUp / dailyRollUp: the ``RollupDataPoint`` union's members."""
    return frozenset(kebab(k) for k in schemas()["RollupDataPoint"]["properties"]) - {"start-time", "end-time"}


def _named_limit(text: str, sentence: re.Pattern[str], what: str) -> tuple[frozenset[str], int, int]:
    """(the types a sentence names, their limit, everyone else's limit) from a description."""
    match = sentence.search(text)
    if match is None:
        raise DiscoveryFactMissing(f"the discovery document no longer states {what}")
    return frozenset(_NAMES.findall(match.group("names"))), int(match.group("short")), int(match.group("other"))


@cache
def _range_caps() -> tuple[frozenset[str], int, int]:
    text = schemas()["RollUpDataPointsRequest"]["properties"]["range"]["description"]
    sentence = re.compile(r"maximum range for (?P<names>(?:`[a-z0-9-]+`[, and]*)+) is (?P<short>\d+) days\. "
                          r"The maximum range for all other data types is (?P<other>\d+) days")
    return _named_limit(text, sentence, "the rollup range caps")


@cache
def _daily_page_sizes() -> tuple[frozenset[str], int, int]:
    text = schemas()["DailyRollUpDataPointsRequest"]["properties"]["pageSize"]["description"]
    sentence = re.compile(r"maximum page size is `(?P<other>\d+)`\. For (?P<names>(?:`[a-z0-9-]+`[, and]*)+), "
                          r"the default and maximum page size is `(?P<short>\d+)`")
    return _named_limit(text, sentence, "the dailyRollUp page sizes")


def rollup_max_days(path_id: str) -> int:
    """The longest range (days) a rollUp or dailyRollUp of ``path_id`` may cover."""
    named, short, other = _range_caps()
    return short if path_id in named else other


def daily_rollup_page_max(path_id: str) -> int:
    """dailyRollUp's default and maximum page size for ``path_id``."""
    named, short, other = _daily_page_sizes()
    return short if path_id in named else other
