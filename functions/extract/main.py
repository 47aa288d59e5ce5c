"""Cloud Function (gen2, CloudEvent, Pub/Sub trigger): one work message → at most one API request.

Thin on purpose: decode the envelope, build adapters from Settings, call the domain function. A raised
transient error makes Pub/Sub redeliver; terminal outcomes are recorded by the domain and acknowledged.
"""

import functions_framework

from fitbit.errors import MalformedMessage
from fitbit.jobs import extract as job
from helper.cloudevents import message_from_pubsub_event
from helper.compose import extract_context


@functions_framework.cloud_event
def extract(cloud_event) -> None:  # noqa: ANN001 - cloudevents.http.CloudEvent
    ctx = extract_context()
    try:
        data = message_from_pubsub_event(cloud_event.data)
    except MalformedMessage as exc:  # an envelope we cannot read: recorded by hash, acknowledged
        job.record_malformed(repr(cloud_event.data).encode()[:4096], exc, ctx)
        return
    job.handle_message(data, ctx)
