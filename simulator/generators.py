"""The route table's data side: every type's generator, and the API's types the simulator leaves empty.

Generators are declared next to their build functions (``gen_activity``, ``gen_vitals``,
``gen_sessions``) and collected here by ``DataType.path_id``; a test fails when a catalogue type has
none. Types the API serves (its discovery unions) that the catalogue does not model are valid and answer
with no data, as the API does for a type a user has never recorded: they are derived, not listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fitbit.catalogue import DATA_TYPES
from simulator import discovery
from simulator import gen_activity as act
from simulator import gen_sessions as ses
from simulator import gen_vitals as vit
from simulator.series import Series
from simulator.spec import Generator
from simulator.store import DayData

__all__ = ["BUILDERS", "GENERATORS", "OTHER_POINT_TYPES", "OTHER_ROLLUP_TYPES"]


def _collect(*modules: tuple[Generator, ...]) -> dict[str, Generator]:
    collected: dict[str, Generator] = {}
    for generator in (g for module in modules for g in module):
        if generator.path_id in collected:
            raise ValueError(f"two generators for {generator.path_id}")
        collected[generator.path_id] = generator
    return collected


GENERATORS: Mapping[str, Generator] = _collect(act.GENERATORS, vit.GENERATORS, ses.GENERATORS)
BUILDERS: Mapping[str, Callable[[DayData], Series]] = {path_id: g.build for path_id, g in GENERATORS.items()}

_CATALOGUE = frozenset(dt.path_id for dt in DATA_TYPES)
OTHER_POINT_TYPES = discovery.point_types() - _CATALOGUE
OTHER_ROLLUP_TYPES = discovery.rollup_types() - _CATALOGUE
