"""Tools around the pipeline, never shipped in a function archive.

The embedded runtime and its demo, the consent flow, the HTML report, the emulated-GCP harness and the
provisioning code. They compose the domain (``fitbit``) with the adapters (``helper``); nothing under
``fitbit``, ``helper`` or ``functions`` imports them.
"""
