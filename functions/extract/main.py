"""Cloud Function (gen2, CloudEvent, Pub/Sub trigger): one work message → at most one API request.

Thin on purpose: decode the event, build adapters from Settings, call the domain function. A raised
transient error makes Pub/Sub redeliver; terminal outcomes are recorded by the domain and acknowledged.
"""

import functions_framework

from fitbit.jobs.extract import handle_pubsub_event
from helper.compose import extract_context


@functions_framework.cloud_event
def extract(cloud_event) -> None:  # noqa: ANN001 - cloudevents.http.CloudEvent
    handle_pubsub_event(cloud_event.data, extract_context())
