"""Google's system parameters: accepted on every method, in both spellings, and honoured where it matters.

Facts (cloud.google.com/apis/docs/system-parameters, checked 2026-11-30; discovery ``parameters``): every
Google front end accepts these on every method, as query parameters (``$name`` or, for some, the bare name)
or as headers. Google's generated REST clients send ``$alt=json;enum-encoding=int`` on every call, and
enums then come back as their numbers (live reports, team spec §12). ``passwd`` / ``password`` are reserved
so that nobody puts a password in a URL, and are refused.

Honoured here: ``alt`` / ``$alt`` (``json``, ``media`` for TCX exports, ``proto`` refused as before;
``enum-encoding=int``), ``fields`` / ``$fields`` / ``X-Goog-FieldMask`` (partial responses, ``fields.py``),
``prettyPrint`` / ``$prettyPrint``, ``access_token`` / ``oauth_token`` (the bearer token in the query). The
others (API key, quota user, user project, callback, request reason, ...) are accepted and have no effect on
a single-project simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from simulator.errors import invalid_argument

# Query spellings of every documented system parameter (the discovery document's ``parameters`` included).
SYSTEM_PARAMS = frozenset({
    "$alt", "alt", "$apiVersion", "$.xgafv", "$callback", "callback", "$ct", "$fields", "fields", "$key", "key",
    "$prettyPrint", "prettyPrint", "$quotaUser", "quotaUser", "$userProject", "userProject", "$requestReason",
    "$outputDefaults", "$unique", "$userIp", "userIp", "access_token", "oauth_token", "uploadType",
    "upload_protocol", "$trace", "trace",
})
RESERVED = frozenset({"passwd", "password"})
FIELD_MASK_HEADER = "x-goog-fieldmask"


@dataclass(frozen=True)
class SystemParams:
    """What a request's system parameters ask of the answer."""

    alt: str = "json"
    enums_as_numbers: bool = False
    fields: str = ""
    pretty: bool = False


def _first(query: Mapping[str, str], *names: str, default: str = "") -> str:
    for name in names:
        if query.get(name):
            return query[name]
    return default


def wants_pretty(query: Mapping[str, str]) -> bool:
    """``prettyPrint`` / ``$prettyPrint``. Google pretty-prints by default; the simulator answers compactly
    unless asked, because indenting forces json's pure-Python encoder, ten times slower on 10,000-point pages."""
    return _first(query, "$prettyPrint", "prettyPrint", default="false").lower() == "true"


def read(query: Mapping[str, str], headers: Mapping[str, str]) -> SystemParams:
    """The system parameters of one request (``headers`` lower-cased).

    Raises:
        ApiError: 400 for a reserved name, or an ``alt`` option the front end does not know.
    """
    reserved = RESERVED & set(query)
    if reserved:
        raise invalid_argument(f"The query parameter {sorted(reserved)[0]!r} is reserved and must not be used.")
    alt, *options = (part.strip() for part in _first(query, "$alt", "alt", default="json").split(";"))
    numbers = False
    for option in options:
        name, _, value = option.partition("=")
        if name != "enum-encoding" or value not in ("int", "string"):
            raise invalid_argument(f"Unsupported alt option {option!r}.")
        numbers = value == "int"
    fields = _first(query, "$fields", "fields") or headers.get(FIELD_MASK_HEADER, "")
    return SystemParams(alt, numbers, fields, wants_pretty(query))
