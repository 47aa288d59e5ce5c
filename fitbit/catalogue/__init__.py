"""The data-type catalogue: the single source every other part of the project derives from.

Public surface: ``DATA_TYPES`` (one entry per Google Health data type), ``ACCOUNT_READS``
(settings, paired devices), ``by_path_id``, ``table_spec`` (the full warehouse table of a read),
``all_tables`` (every table the warehouse holds, for the DDL generator) and ``required_scopes``
(exactly what the authorise script asks for).
"""

from __future__ import annotations

from functools import cache

from fitbit.catalogue.account import (
    ACCOUNT_READS,
    DEVICES_TABLE,
    PROCESSING_LOG_TABLE,
    SETTINGS_TABLE,
    TCX_TABLE,
    AccountRead,
)
from fitbit.catalogue.common import LINEAGE, common_columns
from fitbit.catalogue.entries import DATA_TYPES
from fitbit.catalogue.model import Column, DataType, FollowUp, Read, TableSpec

__all__ = [
    "ACCOUNT_READS",
    "PROCESSING_LOG_TABLE",
    "TCX_TABLE",
    "DATA_TYPES",
    "AccountRead",
    "Column",
    "DataType",
    "FollowUp",
    "Read",
    "TableSpec",
    "account_read",
    "all_tables",
    "by_path_id",
    "read_for",
    "required_scopes",
    "table_named",
    "table_spec",
]


@cache
def _index() -> dict[str, DataType]:
    index: dict[str, DataType] = {}
    for dt in DATA_TYPES:
        for spelling in (dt.path_id,):
            if spelling in index:
                raise ValueError(f"data type {spelling} declared twice")
            index[spelling] = dt
    return index


def by_path_id(path_id: str) -> DataType:
    try:
        return _index()[path_id]
    except KeyError:
        raise KeyError(f"unknown data type {path_id!r}; known: {sorted(_index())}") from None


def account_read(name: str) -> AccountRead:
    for read in ACCOUNT_READS:
        if read.name == name:
            return read
    raise KeyError(f"unknown account read {name!r}")


def read_for(path_id: str, method: str) -> Read:
    dt = by_path_id(path_id)
    for read in dt.reads:
        if read.method == method:
            return read
    raise KeyError(f"{path_id} has no {method} read; it has {[r.method for r in dt.reads]}")


@cache
def table_spec(path_id: str, method: str) -> TableSpec:
    dt = by_path_id(path_id)
    read = read_for(path_id, method)
    return TableSpec(
        name=read.table,
        description=read.description,
        columns=(*common_columns(dt, read), *read.columns, *LINEAGE),
        key=read.key,
    )


@cache
def all_tables() -> tuple[TableSpec, ...]:
    tables = [table_spec(dt.path_id, r.method) for dt in DATA_TYPES for r in dt.reads]
    tables += [SETTINGS_TABLE, DEVICES_TABLE, TCX_TABLE, PROCESSING_LOG_TABLE]
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


def required_scopes() -> tuple[str, ...]:
    """Exactly the OAuth scopes the catalogue needs, sorted (the authorise script asks for these)."""
    scopes = {dt.scope for dt in DATA_TYPES}
    scopes |= {f.scope for dt in DATA_TYPES for f in dt.follow_ups if f.scope}
    scopes |= {a.scope for a in ACCOUNT_READS}
    return tuple(sorted(scopes))
