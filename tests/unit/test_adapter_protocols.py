"""Every adapter keeps the Protocol it is typed by in helper.compose.Adapters, method by method.

Nothing checks Protocols at run time and the project runs no static type checker, so a GCP adapter whose
``create`` grew or renamed a parameter would only fail on Google Cloud. This seam test compares each
implementation's signatures with its Protocol's: same methods, same parameter names in the same order.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from fitbit.ports import Queue, RawStore, Warehouse
from helper.compose import Adapters
from helper.queue import LocalQueue, PubSubQueue
from helper.secrets import LocalSecretStore, SecretManagerStore, SecretStore
from helper.storage import GcsRawStore, LocalRawStore
from helper.warehouse import BigQueryWarehouse, DuckDbWarehouse

IMPLEMENTATIONS: dict[Any, tuple[type, ...]] = {
    RawStore: (LocalRawStore, GcsRawStore),
    Queue: (LocalQueue, PubSubQueue),
    Warehouse: (DuckDbWarehouse, BigQueryWarehouse),
    SecretStore: (LocalSecretStore, SecretManagerStore),
}
CASES = [(p, impl) for p, impls in IMPLEMENTATIONS.items() for impl in impls]


def _methods(protocol: Any) -> list[str]:
    return [name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")]


@pytest.mark.parametrize(("protocol", "implementation"), CASES, ids=lambda c: c.__name__)
def test_each_adapter_has_its_protocols_methods_with_the_same_parameters(protocol: Any, implementation: type) -> None:
    assert _methods(protocol), f"{protocol.__name__} declares no method"
    for name in _methods(protocol):
        declared = list(inspect.signature(getattr(protocol, name)).parameters)
        assert hasattr(implementation, name), f"{implementation.__name__} lacks {name}"
        assert list(inspect.signature(getattr(implementation, name)).parameters) == declared, \
            f"{implementation.__name__}.{name}"


def test_raw_stores_name_their_bucket(tmp_path: Path) -> None:
    assert LocalRawStore(tmp_path, "raw").bucket == "raw"
    assert GcsRawStore("raw", "project").bucket == "raw"


def test_the_adapters_fields_are_typed_by_exactly_these_protocols() -> None:
    hints = get_type_hints(Adapters)
    typed = {f.name: hints[f.name] for f in fields(Adapters)}
    assert {typed["store"], typed["queue"], typed["secrets"]} | {typed["warehouse_factory"].__args__[-1]} \
        == set(IMPLEMENTATIONS)
