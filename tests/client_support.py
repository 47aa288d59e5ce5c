"""A fake Google Health API for HealthClient tests: a requests adapter answering scripted replies.

The client under test is real; only the transport under it is replaced (mounted on its session), so
every request the client builds is recorded as sent.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from fitbit.calls import list_call
from fitbit.client import HealthClient

BASE = "https://health.test/"
TOKEN = "ya29.SECRET-ACCESS-TOKEN"
JSON = {"Content-Type": "application/json; charset=UTF-8"}
Reply = tuple[int, bytes, dict[str, str]]


def reply(status: int = 200, body: object = None, headers: dict[str, str] | None = None) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps({} if body is None else body).encode()
    return status, raw, dict(JSON if headers is None else headers)


def google_error(code: int, status: str, message: str, reason: str | None = None, **metadata: str) -> Reply:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "metadata": metadata}]
    body = {"error": {"code": code, "message": message, "status": status, "details": details if reason else []}}
    return reply(code, body)


class FakeApi(BaseAdapter):
    """Answers each request with the next scripted reply (or exception), recording what was sent."""

    def __init__(self, *replies: Reply | Exception | Callable[[requests.PreparedRequest], Reply]) -> None:
        super().__init__()
        self.replies = list(replies)
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        self.requests.append(request)
        item = self.replies.pop(0)
        if isinstance(item, Exception):
            raise item
        status, body, headers = item(request) if callable(item) else item
        raw = HTTPResponse(body=io.BytesIO(body), headers=headers, status=status, preload_content=False)
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass

    def query(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.requests[index].url).query))


def client_for(
    *replies: object, token: Callable[[], str] = lambda: TOKEN, **kwargs: object
) -> tuple[HealthClient, FakeApi]:
    fake = FakeApi(*replies)  # type: ignore[arg-type]
    session = requests.Session()
    session.mount("https://", fake)
    return HealthClient(token, base_url=BASE, session=session, **kwargs), fake  # type: ignore[arg-type]


STEPS = list_call("steps", filter='steps.interval.civil_start_time >= "2026-11-21"', page_size=10000)
