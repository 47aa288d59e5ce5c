"""The unit tier: pure logic, fakes and the in-process simulator; no socket, no process (tests/purity.py)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from helper.warehouse import DuckDbWarehouse
from tests.purity import guarded_phase


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from guarded_phase(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from guarded_phase(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    return (yield from guarded_phase(item, "teardown"))


@pytest.fixture
def warehouse(tmp_path: Any) -> Generator[DuckDbWarehouse, None, None]:
    """An empty embedded warehouse with every table, in the test's own folder (a file, no server)."""
    w = DuckDbWarehouse(tmp_path / "w.duckdb", "fitbit", tmp_path / "staging")
    w.ensure_schema()
    yield w
    w.close()
