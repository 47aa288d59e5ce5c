"""SQL text that ships inside the function archives, and its one dataset parameter.

Why package data: the deployed ``transform_load`` creates the analytics views on its first cold start,
from the files under ``helper/sql/views/``. Anything a function reads from disk must travel inside the
package it belongs to and be read with ``importlib.resources``; a path outside the package (the old
``../bigquery_sql/views``) is not in the archive, so every cold start failed with FileNotFoundError.

The files are templates in BigQuery SQL with no project id: ``${dataset}`` is the dataset, spelled
once here (``DATASET_PLACEHOLDER``) and used by the generated DDL in ``bigquery_sql/``, by provisioning
and by the views. ``bigquery_sql/views/`` is a readable copy generated from these files by
``make sql`` (a test fails when it drifts); edit the files here.

Standard library only: provisioning imports this module in the Cloud SDK image, where nothing is installed.
"""

from __future__ import annotations

import re
from importlib import resources

DATASET_PARAMETER = "dataset"
DATASET_PLACEHOLDER = "${" + DATASET_PARAMETER + "}"
# BigQuery's rule for dataset names; it also keeps the substitution free of injection.
_DATASET = re.compile(r"^[A-Za-z0-9_]{1,1024}$")


def read(*parts: str) -> str:
    """The text of a file shipped under ``helper/sql/``, e.g. ``read("views", "hr_1h.sql")``.

    Raises:
        FileNotFoundError: no such file in the package (or in the archive the package came from).
    """
    return resources.files(__name__).joinpath(*parts).read_text(encoding="utf-8")


def names(folder: str, suffix: str = ".sql") -> list[str]:
    """The stems of the files in ``helper/sql/<folder>/`` with ``suffix``, sorted."""
    return sorted(entry.name.removesuffix(suffix) for entry in resources.files(__name__).joinpath(folder).iterdir()
                  if entry.name.endswith(suffix))


def check_dataset(dataset: str) -> str:
    """``dataset`` if BigQuery would accept it as a dataset name.

    Raises:
        ValueError: letters, digits and underscores only (BigQuery's rule).
    """
    if not _DATASET.match(dataset):
        raise ValueError(f"dataset {dataset!r} must be letters, digits and underscores (BigQuery's rule)")
    return dataset


def with_dataset(text: str, dataset: str) -> str:
    """``text`` with every ``${dataset}`` replaced by a checked dataset name; other ``$`` are left alone."""
    return text.replace(DATASET_PLACEHOLDER, check_dataset(dataset))
