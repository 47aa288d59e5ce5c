"""The pipeline's own identifiers, checked once, where a message is decoded.

Why here: a participant id, a run id and a data point id end up in object names, secret names, SQL
parameters and API paths. Checked at decode, a forged or damaged message is a terminal error that is
recorded and acknowledged; checked nowhere, it reaches a path join (``../``), a secret name (NUL,
over 255 characters) or an API call and is retried until it is dead-lettered.

The rules are the narrowest that every producer meets: enrolment takes participant ids of
``[A-Za-z0-9_-]`` (they name secrets), the scheduler, the demo and the webhooks use plain run ids,
and the API's data point ids are ``[A-Za-z0-9_-]``.
"""

from __future__ import annotations

import re

PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
RUN_ID = re.compile(r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,127}$")
DATA_POINT_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def participant_id_problem(value: object) -> str | None:
    """Why ``value`` is not a usable participant id, or None when it is."""
    if not isinstance(value, str) or not PARTICIPANT_ID.match(value):
        return "a participant id must be 1-200 characters of [A-Za-z0-9_-]"
    return None


def run_id_problem(value: object) -> str | None:
    """Why ``value`` is not a usable run id (the empty run id is allowed: "no run"), or None."""
    if value == "":
        return None
    if not isinstance(value, str) or not RUN_ID.match(value) or ".." in value:
        return "a run id must be up to 128 characters of [A-Za-z0-9_.:-], not starting with '.' nor holding '..'"
    return None


def data_point_id_problem(value: object) -> str | None:
    """Why ``value`` is not a bare data point id (what detail units carry), or None."""
    if not isinstance(value, str) or not DATA_POINT_ID.match(value):
        return "a data point id must be 1-200 characters of [A-Za-z0-9_-]"
    return None
