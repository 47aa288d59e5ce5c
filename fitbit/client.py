"""The Google Health API v4 HTTP client: one-request ``execute`` and bounded paging over ``fitbit.calls``.

Why this shape: ``execute`` sends exactly one ``ApiCall`` (plus one after a 401 with a fresh token) and
maps every failure onto ``fitbit.errors``; retrying is the platform's job, paging is ``pages``'s. The
transport is an injectable ``requests.Session`` (the simulator's in-process adapter in tests).

API facts (discovery revision 20261030, checked 2026-11-23; team spec §1, §4): an empty page may be
``{}`` and may still carry a ``nextPageToken`` (``""`` or absent when done); a TCX export
(``alt=media``) answers with the file itself, not a JSON envelope.

CPU per request (issue #14; the extract path stores the bytes and needs only the page token): a page is
checked with a msgspec decoder that reads ``nextPageToken`` and skips everything else (item objects are
checked to be objects, not built), ~3x faster than ``json.loads`` on a 250 kB page; ``Page.data`` and
``Page.items`` are built on first use. A body the fast check refuses (NaN, a wrong shape, truncation) is
read again by ``fitbit.http_errors.read_envelope``, which decides the error exactly as before. The
environment's proxy and CA settings are resolved once per client (``requests`` looked them up on every
request: ~0.9 ms each); our own sessions then stop reading the environment (and ``~/.netrc``, which could
replace the bearer header).

Thread safety: one client may serve several threads (the runtime runs extract units on a pool). The
``requests`` connection pool is thread-safe; the token source is called under the client's lock, so two
threads never refresh the same grant at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
import requests

from fitbit.calls import ApiCall, export_tcx_call, identity_call, paired_devices_call, settings_call
from fitbit.errors import BadRequest, NetworkError, TransientError, UnexpectedResponse
from fitbit.http_errors import error_for_response, is_json_content_type, read_envelope

__all__ = ["DEFAULT_BASE_URL", "HealthClient", "Page", "page_token"]

DEFAULT_BASE_URL = "https://health.googleapis.com/"


@dataclass(frozen=True)
class Page:
    """One response: the bytes as received (for the raw store), its page token, and (built on first use)
    the parsed envelope ``data`` and its ``items``. The envelope was validated when the page was read."""

    call: ApiCall
    status: int
    body: bytes = field(repr=False)
    next_page_token: str | None
    fetched_at: datetime

    @cached_property
    def data(self) -> Mapping[str, Any]:
        if self.call.media or not self.body:
            return {}
        return json.loads(self.body)  # validated as a JSON object by HealthClient._page

    @cached_property
    def items(self) -> list[Any]:
        key = self.call.items_key
        return list(self.data.get(key, [])) if key is not None else []


class _Item(msgspec.Struct):
    """Any JSON object; its fields are skipped, not decoded."""


@cache
def _envelope_decoder(items_key: str | None) -> msgspec.json.Decoder[Any]:
    """Decodes ``nextPageToken`` (and checks the item array holds objects), skipping everything else."""
    fields: list[tuple[str, Any, Any]] = [("nextPageToken", str | None, None)]
    if items_key is not None:
        fields.append((items_key, list[_Item], msgspec.field(default_factory=list)))
    return msgspec.json.Decoder(msgspec.defstruct("Envelope", fields))


def page_token(status: int, content_type: str | None, raw: bytes, *, items_key: str | None, what: str) -> str | None:
    """The ``nextPageToken`` of a 2xx JSON body (None when ``""`` or absent), validating it as
    ``read_envelope`` does; only a body the fast decoder refuses is parsed in full (to name the error)."""
    if content_type is None or is_json_content_type(content_type):
        try:
            return _envelope_decoder(items_key).decode(raw).nextPageToken or None
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass  # NaN (accepted by json), truncation or a wrong shape: the reference reading decides
    return read_envelope(status, content_type, raw, items_key=items_key, what=what)[2]

_NETWORK_FAILURES = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)


class HealthClient:
    """Sends ``ApiCall``s over an injectable ``requests.Session``.

    ``access_token`` is called before each request. When it also has an ``invalidate()`` method (as
    ``fitbit.oauth.TokenSource`` does), a 401 invalidates the cached token first so the second call
    really refreshes.
    """

    def __init__(self, access_token: Callable[[], str], *, base_url: str = DEFAULT_BASE_URL,
                 session: requests.Session | None = None, timeout_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url {base_url!r} must be an http(s) URL")
        self._token = access_token
        self._token_lock = threading.Lock()
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        if session is None:
            session = requests.Session()
            # Resolved once: proxies, CA bundle (every request goes to the same host).
            self._send_settings = session.merge_environment_settings(self._base, {}, None, None, None)
            session.trust_env = False
        else:  # an injected session keeps its own behaviour
            self._send_settings = {}
        self._session = session
        self._timeout_s = timeout_s
        self._clock = clock

    def _access_token(self) -> str:
        with self._token_lock:
            return self._token()

    def _invalidate_token(self) -> None:
        invalidate = getattr(self._token, "invalidate", None)
        if callable(invalidate):
            with self._token_lock:
                invalidate()

    def url(self, call: ApiCall) -> str:
        """The full URL of ``call``; spaces in the filter are sent as ``%20``, as in Google's examples."""
        query = urlencode(call.query, quote_via=quote) if call.query else ""
        return self._base + quote(call.path, safe="/:") + (f"?{query}" if query else "")

    def _what(self, call: ApiCall) -> str:
        return f"{call.discovery_method or call.http_method} {call.path.split('/dataPoints', 1)[0]}"

    def _send(self, call: ApiCall, token: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "*/*" if call.media else "application/json"}
        data = None
        if call.body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(call.body, separators=(",", ":")).encode()
        try:
            response = self._session.request(
                call.http_method, self.url(call), data=data, headers=headers, timeout=self._timeout_s,
                allow_redirects=False, **self._send_settings,
            )
            _ = response.content  # read the whole body now, so a broken stream fails here
        except _NETWORK_FAILURES as exc:
            raise NetworkError(f"{self._what(call)}: {type(exc).__name__} talking to the API") from None
        except requests.RequestException as exc:
            raise BadRequest(f"{self._what(call)}: the request could not be sent ({type(exc).__name__})") from None
        return response

    def execute(self, call: ApiCall) -> Page:
        """Send ``call`` once and read the answer.

        Raises:
            TransientError: ``RateLimited``, ``ServerError``, ``NetworkError`` (also for a 2xx body that
                is truncated or not JSON).
            TerminalError: see ``fitbit.http_errors``; ``UnexpectedResponse`` when the envelope's shape
                is wrong.
        """
        response = self._send(call, self._access_token())
        if response.status_code == 401:
            self._invalidate_token()
            response = self._send(call, self._access_token())
        if not 200 <= response.status_code < 300:
            raise error_for_response(response.status_code, response.headers, response.content,
                                     what=self._what(call))
        return self._page(call, response)

    def _page(self, call: ApiCall, response: requests.Response) -> Page:
        raw, status = response.content, response.status_code
        if call.media or (status == 204 and not raw):
            return Page(call, status, raw, None, datetime.now(UTC))
        token = page_token(status, response.headers.get("Content-Type"), raw, items_key=call.items_key,
                           what=self._what(call))
        return Page(call, status, raw, token, datetime.now(UTC))

    def pages(self, call: ApiCall, *, max_pages: int = 100, max_seconds: float = 300.0) -> Iterator[Page]:
        """Yield every page of ``call``, following ``nextPageToken`` (empty pages with a token included).

        Raises:
            TransientError: more pages remain after ``max_pages`` pages or ``max_seconds`` seconds.
            UnexpectedResponse: the API hands back the token of the page just read (it would loop forever).
        """
        started = self._clock()
        count = 0
        while True:
            page = self.execute(call)
            count += 1
            yield page
            token = page.next_page_token
            if token is None:
                return
            if token == call.param("pageToken"):
                raise UnexpectedResponse(f"{self._what(call)}: the API returned the same page token again")
            elapsed = self._clock() - started
            if count >= max_pages or elapsed >= max_seconds:
                raise TransientError(
                    f"{self._what(call)}: stopped with more pages to read after {count} pages and "
                    f"{elapsed:.0f} s (bounds: {max_pages} pages, {max_seconds:.0f} s)"
                )
            call = call.with_page_token(token)

    # --- account reads and the TCX export, unwrapped (tools/authorise.py and the tests use them) ---

    def identity(self) -> Mapping[str, Any]:
        """``users.getIdentity``; guarantees a non-empty string ``healthUserId``."""
        data = self.execute(identity_call()).data
        if not isinstance(data.get("healthUserId"), str) or not data["healthUserId"]:
            raise UnexpectedResponse("users.getIdentity: the answer has no healthUserId")
        return data

    def settings(self) -> Mapping[str, Any]:
        return self.execute(settings_call()).data

    def paired_devices(self) -> list[Mapping[str, Any]]:
        return [device for page in self.pages(paired_devices_call()) for device in page.items]

    def export_tcx(self, data_point_id: str, *, partial_data: bool = False) -> bytes:
        return self.execute(export_tcx_call(data_point_id, partial_data=partial_data)).body
