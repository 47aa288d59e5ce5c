"""Cloud Function (gen2, CloudEvent, storage object-finalized): one raw object → staged rows + follow-ups.

Thin on purpose: decode the event, build adapters from Settings, call the domain function.
"""

import functions_framework

from fitbit.jobs.transform import handle_storage_event
from helper.compose import transform_context


@functions_framework.cloud_event
def transform_load(cloud_event) -> None:  # noqa: ANN001 - cloudevents.http.CloudEvent
    handle_storage_event(cloud_event.data, transform_context())
