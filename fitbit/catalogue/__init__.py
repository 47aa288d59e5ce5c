"""The catalogue: the single source every other part of the project derives from.

Public surface: ``DATA_TYPES`` (one entry per Google Health data type), ``ACCOUNT_READS`` (settings,
paired devices), ``DETAILS`` (per-data-point exports follow-ups ask for), ``unit_kind`` (what a work unit
names: how it is fetched, stored, parsed and followed up), ``by_path_id``, ``read_for``, ``table_spec``
(the full warehouse table of a read), ``all_tables`` (every table the warehouse holds, for the DDL
generator), ``table_named`` and ``required_scopes`` (exactly what the authorise script asks for).
"""

from __future__ import annotations

from functools import cache

from fitbit.catalogue.account import ACCOUNT_READS
from fitbit.catalogue.columns import Column, ValueColumn
from fitbit.catalogue.deletions import FETCH_KEYS_TABLE, FETCH_PAGES_TABLE, deletion_key
from fitbit.catalogue.details import DETAILS
from fitbit.catalogue.entries import DATA_TYPES
from fitbit.catalogue.followups import FollowUp, LoadedPage, RereadPolicy
from fitbit.catalogue.kinds import AccountRead, Detail, TypeRead, UnitKind
from fitbit.catalogue.log import CONSENT_LOG_TABLE, DAY_OUTCOMES_TABLE, PROCESSING_LOG_TABLE
from fitbit.catalogue.model import DataType, Read, TableSpec

__all__ = [
    "ACCOUNT_READS",
    "DATA_TYPES",
    "CONSENT_LOG_TABLE",
    "DAY_OUTCOMES_TABLE",
    "LOG_TABLES",
    "DETAILS",
    "FETCH_KEYS_TABLE",
    "FETCH_PAGES_TABLE",
    "PROCESSING_LOG_TABLE",
    "AccountRead",
    "Column",
    "DataType",
    "Detail",
    "FollowUp",
    "LoadedPage",
    "Read",
    "RereadPolicy",
    "TableSpec",
    "TypeRead",
    "UnitKind",
    "ValueColumn",
    "all_tables",
    "by_path_id",
    "deletion_key",
    "read_for",
    "required_scopes",
    "table_named",
    "table_spec",
    "tracked_tables",
    "unit_kind",
    "unit_kinds",
]

# The tables the pipeline writes about its own work (not parsed from a page).
LOG_TABLES = (PROCESSING_LOG_TABLE, DAY_OUTCOMES_TABLE, CONSENT_LOG_TABLE)


@cache
def _index() -> dict[str, DataType]:
    index: dict[str, DataType] = {}
    for dt in DATA_TYPES:
        if dt.path_id in index:
            raise ValueError(f"data type {dt.path_id} declared twice")
        index[dt.path_id] = dt
    return index


def by_path_id(path_id: str) -> DataType:
    try:
        return _index()[path_id]
    except KeyError:
        raise KeyError(f"unknown data type {path_id!r}; known: {sorted(_index())}") from None


def read_for(path_id: str, method: str) -> Read:
    dt = by_path_id(path_id)
    for read in dt.reads:
        if read.method == method:
            return read
    raise KeyError(f"{path_id} has no {method} read; it has {[r.method for r in dt.reads]}")


@cache
def unit_kinds() -> dict[tuple[str, str], UnitKind]:
    """Every unit kind by ``(data_type, method)``: each data type's reads, the account reads, the details."""
    kinds: list[UnitKind] = [TypeRead(dt, read) for dt in DATA_TYPES for read in dt.reads]
    kinds += [*ACCOUNT_READS, *DETAILS]
    index: dict[tuple[str, str], UnitKind] = {}
    names: dict[str, str] = {}
    for kind in kinds:
        owner = names.setdefault(kind.name, type(kind).__name__)
        if owner != type(kind).__name__ or (kind.name, kind.method) in index:
            raise ValueError(f"unit kind {kind.name} / {kind.method} declared twice")
        index[(kind.name, kind.method)] = kind
    return index


def unit_kind(data_type: str, method: str) -> UnitKind:
    """The kind of work a unit names.

    Raises:
        KeyError: the name is unknown, or known without that method (the message says which).
    """
    kind = unit_kinds().get((data_type, method))
    if kind is not None:
        return kind
    methods = sorted(m for name, m in unit_kinds() if name == data_type)
    if not methods:
        raise KeyError(f"unknown data type {data_type!r}")
    raise KeyError(f"the catalogue does not read {data_type} with {method!r}; it reads it with {methods}")


@cache
def table_spec(path_id: str, method: str) -> TableSpec:
    return unit_kind(path_id, method).table


@cache
def all_tables() -> tuple[TableSpec, ...]:
    tables = [kind.table for kind in unit_kinds().values()]
    tables += [FETCH_PAGES_TABLE, FETCH_KEYS_TABLE, *LOG_TABLES]
    names = [t.name for t in tables]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"tables declared twice: {sorted(duplicated)}")
    return tuple(tables)


@cache
def _tables_by_name() -> dict[str, TableSpec]:
    return {t.name: t for t in all_tables()}


def table_named(name: str) -> TableSpec:
    """The warehouse table called ``name`` (parsed pages and staging folders name their tables)."""
    try:
        return _tables_by_name()[name]
    except KeyError:
        raise KeyError(f"unknown warehouse table {name!r}") from None


@cache
def tracked_tables() -> tuple[TableSpec, ...]:
    """The tables of reads that track deletions (their rows get ``deleted_at``; ``catalogue.deletions``)."""
    return tuple(dt.table(read) for dt in DATA_TYPES for read in dt.reads if read.tracks_deletions)


def required_scopes() -> tuple[str, ...]:
    """Exactly the OAuth scopes the catalogue needs, sorted (the authorise script asks for these)."""
    scopes = {kind.scope for kind in unit_kinds().values()}
    scopes |= {f.scope for kind in unit_kinds().values() for f in kind.follow_ups if f.scope}
    return tuple(sorted(scopes))
