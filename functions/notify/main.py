"""Cloud Function (gen2, HTTP): Google Health webhook notifications in, re-read units on the units topic.

Thin on purpose: read at most one byte more than the domain accepts, build adapters from Settings, let
the domain answer (201 verification, 204 accepted, 4xx refused, 503 retry later); no body goes back.
"""

import functions_framework

from fitbit.jobs import notify as job
from helper.compose import notify_context


@functions_framework.http
def notify(request):  # noqa: ANN001, ANN201 - flask.Request in, (body, status) out
    body = request.stream.read(job.MAX_BODY_BYTES + 1)  # bounded: anything longer is refused as oversized
    reply = job.handle_request(request.method, dict(request.headers), body, notify_context())
    return "", reply.status
