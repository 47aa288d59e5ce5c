"""Cloud Function (gen2, CloudEvent, storage object-finalized): one raw object → staged rows + follow-ups.

Thin on purpose: decode the envelope, build adapters from Settings, call the domain function.
"""

import functions_framework

from fitbit.errors import MalformedMessage
from fitbit.jobs import transform as job
from helper.cloudevents import object_from_storage_event
from helper.compose import transform_context


@functions_framework.cloud_event
def transform_load(cloud_event) -> None:  # noqa: ANN001 - cloudevents.http.CloudEvent
    try:
        obj = object_from_storage_event(cloud_event.data)
    except MalformedMessage as exc:  # names no object: logged and acknowledged
        job.record_malformed_event(exc)
        return
    job.handle_object(obj, transform_context())
