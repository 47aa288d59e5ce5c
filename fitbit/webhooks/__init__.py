"""Google Health webhooks: near-real-time change notifications feeding the same pipeline.

- ``notification``: the request bodies (verification handshake; one notification or a batch of up to 99);
- ``signature``: Google's Tink public keyset, the signature header, ECDSA P-256 / SHA-256 verification;
- ``participants``: healthUserId → participant (a port, and a cached directory over the grants);
- ``units``: which participant × type × civil day changed, and the daily plan's units for that day;
- ``dedup``: idempotency keys per participant × type × day × coalescing window (a port over a store).

The subscriber and the per-participant subscriptions are managed by tooling that never ships
(``tools/webhook_subscriptions.py``: provisioning, enrolment and withdrawal call it, no function does).

``fitbit.jobs.notify`` puts them together behind the HTTP function ``functions/notify``. The daily run
stays the sweep that catches anything a notification missed.
"""
