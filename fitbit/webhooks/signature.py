"""Webhook signatures: Google's public Tink keyset, the signature header, and ECDSA verification.

Facts (discovery 20261030 ``EndpointAuthorization``; Tink wire-format guide; team spec §6.4, checked
2026-11-30):

- every notification is signed with ECDSA over NIST P-256 and SHA-256, over the **raw body bytes**;
- the header is ``GOOGLE-HEALTH-API-SIGNATURE`` (current discovery) or ``X-HEALTHAPI-SIGNATURE``
  (earlier revisions, a live capture): both are accepted;
- its value is base64 of Tink's output: ``0x01`` + the 4-byte big-endian key id + the DER signature
  (keys with output prefix ``RAW`` sign without the 5-byte prefix);
- the public keyset is Tink JSON (``{"primaryKeyId", "key": [{"keyData": {"typeUrl", "value"},
  "status", "keyId", "outputPrefixType"}]}``) at ``GOOGLE_KEYSET_URL``; ``keyData.value`` is a
  binary ``google.crypto.tink.EcdsaPublicKey`` protobuf (params = hash, curve, encoding; x; y);
- keys rotate (about every 30 days, 3P): the keyset is cached and fetched again, once, when a
  signature names a key id the cache does not hold.

The elliptic-curve arithmetic is ``cryptography``'s (already in the runtime closure through
google-auth); this module only reads Tink's containers around it. The prefix is a hint, not a proof:
a signature is accepted only when the named key verifies it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from fitbit.errors import TransientError

log = logging.getLogger("fitbit.webhooks")

GOOGLE_KEYSET_URL = "https://www.gstatic.com/googlehealthapi/webhooks/webhooks_public_keyset.json"
SIGNATURE_HEADERS = ("GOOGLE-HEALTH-API-SIGNATURE", "X-HEALTHAPI-SIGNATURE")
ECDSA_PUBLIC_KEY_TYPE = "type.googleapis.com/google.crypto.tink.EcdsaPublicKey"
TINK_PREFIX_VERSION = 0x01
# Tink enum values (proto/common.proto, proto/ecdsa.proto).
_SHA256, _NIST_P256, _IEEE_P1363, _DER = 3, 2, 1, 2


class KeysetUnavailable(TransientError):
    """The public keyset could not be fetched or read; the notification is refused with 503 and retried."""

    fix = "nothing: Google redelivers the notification; check the keyset URL if it persists"


class SignatureRejected(Exception):
    """A signature is missing, malformed, names no known key, or does not verify. ``reason`` is log-safe."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PublicKey:
    key_id: int
    prefixed: bool  # output prefix TINK (5-byte prefix) or RAW (none)
    ieee_p1363: bool  # signature encoding r||s instead of DER
    key: ec.EllipticCurvePublicKey


def parse_keyset(raw: bytes) -> dict[int, PublicKey]:
    """The usable (enabled ECDSA P-256/SHA-256, TINK or RAW prefix) keys of a Tink JSON public keyset.

    Raises:
        KeysetUnavailable: not JSON, not a keyset, or no usable key in it.
    """
    try:
        doc = json.loads(raw)
        entries = doc["key"]
        if not isinstance(entries, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise KeysetUnavailable("the webhook public keyset is not a Tink JSON keyset") from None
    keys: dict[int, PublicKey] = {}
    for entry in entries:
        key = _key(entry)
        if key is not None:
            keys[key.key_id] = key
    if not keys:
        raise KeysetUnavailable("the webhook public keyset holds no enabled ECDSA P-256 key")
    return keys


def _key(entry: Any) -> PublicKey | None:
    try:
        data = entry["keyData"]
        if (data["typeUrl"] != ECDSA_PUBLIC_KEY_TYPE or entry.get("status") != "ENABLED"
                or entry.get("outputPrefixType") not in ("TINK", "RAW")):
            return None
        key_id = int(entry["keyId"]) & 0xFFFFFFFF
        fields = _proto_fields(base64.b64decode(data["value"], validate=True))
        params = _proto_fields(fields.get(2, b""))
        if (params.get(1), params.get(2)) != (_SHA256, _NIST_P256) or params.get(3) not in (_DER, _IEEE_P1363):
            return None
        x, y = int.from_bytes(fields[3], "big"), int.from_bytes(fields[4], "big")
        key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, TypeError, ValueError, binascii.Error):
        log.warning("webhook keyset entry skipped: not a readable ECDSA public key")
        return None
    return PublicKey(key_id, entry["outputPrefixType"] == "TINK", params.get(3) == _IEEE_P1363, key)


def _proto_fields(data: bytes) -> dict[int, Any]:
    """Varint and length-delimited fields of a protobuf message (last one wins, as protobuf merges).

    Raises:
        ValueError: truncated or using a wire type these key protos never carry.
    """
    fields: dict[int, Any] = {}
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            fields[number], pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ValueError("truncated protobuf field")
            fields[number], pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return fields


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated protobuf varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


class KeysetCache:
    """Google's public keyset, fetched through an injected transport and cached.

    Args:
        fetch: returns the keyset's bytes (raise ``KeysetUnavailable`` or any ``TransientError`` on failure).
        max_age_s: fetch again after this long even when every key id is known.
        min_refetch_s: an unknown key id triggers at most one fetch per this many seconds, so forged key
            ids cannot make us hammer the keyset URL.
    """

    def __init__(self, fetch: Callable[[], bytes], *, clock: Callable[[], float] = time.monotonic,
                 max_age_s: float = 3600.0, min_refetch_s: float = 10.0) -> None:
        self._fetch = fetch
        self._clock = clock
        self._max_age_s = max_age_s
        self._min_refetch_s = min_refetch_s
        self._keys: dict[int, PublicKey] | None = None
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self.fetches = 0

    def _refresh(self) -> dict[int, PublicKey]:
        keys = parse_keyset(self._fetch())
        self.fetches += 1
        self._keys, self._fetched_at = keys, self._clock()
        return keys

    def keys(self) -> dict[int, PublicKey]:
        """The cached keys, fetched first when there are none or they are older than ``max_age_s``."""
        with self._lock:
            if self._keys is None:
                return self._refresh()
            if self._clock() - self._fetched_at >= self._max_age_s:
                try:
                    return self._refresh()
                except TransientError:  # keep verifying with the keys we have; try again next time
                    log.warning("webhook keyset refresh failed; using the cached keys")
            return self._keys

    def key(self, key_id: int) -> PublicKey | None:
        """The key ``key_id``; an unknown id fetches the keyset once more (rotation) before giving up."""
        known = self.keys()
        if key_id in known:
            return known[key_id]
        with self._lock:
            if self._clock() - self._fetched_at >= self._min_refetch_s:
                self._refresh()
                log.info("webhook keyset fetched again for an unknown key id", extra={"keys": len(self._keys or {})})
            return (self._keys or {}).get(key_id)


def signature_header(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(header name, value) of the first signature header present, looked up case-insensitively."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in SIGNATURE_HEADERS:
        value = lowered.get(name.lower())
        if value:
            return name, value.strip()
    return None


def _b64(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    alphabet = b"-_" if ("-" in value or "_" in value) else None
    try:
        return base64.b64decode(padded, altchars=alphabet, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected("signature header is not base64") from None


def verify(body: bytes, headers: Mapping[str, str], keyset: KeysetCache) -> int:
    """Check the notification's signature over the raw ``body``; return the key id that verified it.

    Raises:
        SignatureRejected: no signature header, a malformed one, an unknown key id, or a bad signature.
        KeysetUnavailable: the keyset could not be fetched (answer 5xx: the sender retries).
    """
    found = signature_header(headers)
    if found is None:
        raise SignatureRejected("unsigned")
    raw = _b64(found[1])
    if len(raw) > 5 and raw[0] == TINK_PREFIX_VERSION:
        key_id = int.from_bytes(raw[1:5], "big")
        key = keyset.key(key_id)
        if key is not None and key.prefixed:
            _check(key, raw[5:], body)
            return key_id
    for key in keyset.keys().values():  # RAW-prefix keys sign without a prefix: try each of them
        if not key.prefixed:
            try:
                _check(key, raw, body)
                return key.key_id
            except SignatureRejected:
                continue
    raise SignatureRejected("unknown-key-id" if len(raw) > 5 and raw[0] == TINK_PREFIX_VERSION else "bad-prefix")


def _check(key: PublicKey, signature: bytes, body: bytes) -> None:
    if key.ieee_p1363:
        if len(signature) != 64:
            raise SignatureRejected("bad-signature")
        signature = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise SignatureRejected("bad-signature") from None
