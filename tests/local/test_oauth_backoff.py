"""google-auth's own retries of a failing token endpoint, waited out in real time (about 3 s of backoff).

Kept out of tests/unit for its wall time: the backoff sleeps inside google-auth, which takes no clock.
"""

from __future__ import annotations

import io
import json

import pytest
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from fitbit.errors import ServerError
from fitbit.oauth import OAuthClientConfig, TokenSource


class UnavailableTokenEndpoint(BaseAdapter):
    """Answers every token request with 503 ``temporarily_unavailable`` and counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        self.requests += 1
        raw = HTTPResponse(body=io.BytesIO(json.dumps({"error": "temporarily_unavailable"}).encode()), status=503,
                           preload_content=False, headers={"Content-Type": "application/json"})
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


def test_a_token_endpoint_that_keeps_failing_is_a_server_error_after_google_auths_own_retries() -> None:
    endpoint = UnavailableTokenEndpoint()
    session = requests.Session()
    session.mount("https://", endpoint)
    config = OAuthClientConfig("client-1.apps.googleusercontent.com", "CLIENT-SECRET-XYZ",
                               token_uri="https://oauth.test/token")
    tokens = TokenSource(config, "1//REFRESH-TOKEN-SECRET",
                         ("https://www.googleapis.com/auth/googlehealth.sleep.readonly",), session)
    with pytest.raises(ServerError):
        tokens()
    assert endpoint.requests == 3  # google-auth tries 3 times
