"""Webhook signatures: Tink keysets and signatures read as Google's own Tink library writes them, rotation."""

from __future__ import annotations

import base64
import io

import pytest
import tink
from tink import signature as tink_signature

from fitbit.webhooks.signature import KeysetCache, KeysetUnavailable, SignatureRejected, parse_keyset, verify
from simulator.webhook_keys import Keyring

pytestmark = pytest.mark.webhook
BODY = b'[{"data":{"healthUserId":"1","dataType":"steps","intervals":[]}}]'
tink_signature.register()


def _tink_keyset(template) -> tuple[bytes, tink.KeysetHandle]:  # noqa: ANN001
    private = tink.new_keyset_handle(template)
    out = io.StringIO()
    private.public_keyset_handle().write_no_secret(tink.JsonKeysetWriter(out))
    return out.getvalue().encode(), private


@pytest.mark.parametrize("template", ["ECDSA_P256", "ECDSA_P256_IEEE_P1363", "ECDSA_P256_RAW"])
def test_signatures_made_by_googles_tink_library_verify(template):
    keyset, private = _tink_keyset(getattr(tink_signature.signature_key_templates, template))
    signed = base64.b64encode(private.primitive(tink_signature.PublicKeySign).sign(BODY)).decode()
    cache = KeysetCache(lambda: keyset)
    assert verify(BODY, {"GOOGLE-HEALTH-API-SIGNATURE": signed}, cache) in parse_keyset(keyset)
    with pytest.raises(SignatureRejected, match="bad-signature|bad-prefix"):
        verify(BODY + b" ", {"GOOGLE-HEALTH-API-SIGNATURE": signed}, cache)


def test_the_simulators_keyset_and_signatures_are_valid_for_googles_tink_library():
    ring = Keyring(seed=7)
    ring.rotate()
    handle = tink.read_no_secret_keyset_handle(tink.JsonKeysetReader(ring.public_keyset().decode()))
    verifier = handle.primitive(tink_signature.PublicKeyVerify)
    verifier.verify(base64.b64decode(ring.sign(BODY)), BODY)  # raises on failure
    with pytest.raises(tink.TinkError):
        verifier.verify(base64.b64decode(ring.sign(BODY)), BODY.replace(b"steps", b"sleep"))


@pytest.mark.parametrize("header", ["GOOGLE-HEALTH-API-SIGNATURE", "X-HEALTHAPI-SIGNATURE", "x-healthapi-signature"])
def test_both_documented_header_names_are_accepted_in_any_case(header):
    ring = Keyring(seed=1)
    assert verify(BODY, {header: ring.sign(BODY)}, KeysetCache(ring.public_keyset)) == ring.primary.key_id


@pytest.mark.parametrize("headers, reason", [
    ({}, "unsigned"),
    ({"X-HEALTHAPI-SIGNATURE": "not base64!"}, "not base64"),
    ({"X-HEALTHAPI-SIGNATURE": base64.b64encode(b"\x02" + b"\0" * 70).decode()}, "bad-prefix"),
])
def test_missing_and_malformed_signatures_are_rejected(headers, reason):
    with pytest.raises(SignatureRejected, match=reason):
        verify(BODY, headers, KeysetCache(Keyring(seed=1).public_keyset))


def test_a_signature_with_one_bit_changed_is_rejected():
    ring = Keyring(seed=1)
    raw = bytearray(base64.b64decode(ring.sign(BODY)))
    raw[-1] ^= 1
    with pytest.raises(SignatureRejected, match="bad-signature"):
        verify(BODY, {"X-HEALTHAPI-SIGNATURE": base64.b64encode(bytes(raw)).decode()}, KeysetCache(ring.public_keyset))


def test_a_rotated_key_is_found_by_fetching_the_keyset_once_more():
    ring, now = Keyring(seed=3), [0.0]
    cache = KeysetCache(ring.public_keyset, clock=lambda: now[0], min_refetch_s=10)
    old = ring.primary.key_id
    assert verify(BODY, {"X-HEALTHAPI-SIGNATURE": ring.sign(BODY)}, cache) == old
    new = ring.rotate(keep_old=False).key_id
    now[0] = 30.0
    assert verify(BODY, {"X-HEALTHAPI-SIGNATURE": ring.sign(BODY)}, cache) == new
    assert cache.fetches == 2


def test_forged_key_ids_cannot_make_the_cache_refetch_in_a_loop():
    ring, now = Keyring(seed=3), [100.0]
    cache = KeysetCache(ring.public_keyset, clock=lambda: now[0], min_refetch_s=10)
    cache.keys()
    forged = base64.b64encode(b"\x01" + (12345).to_bytes(4, "big") + b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()
    for _ in range(5):
        with pytest.raises(SignatureRejected, match="unknown-key-id"):
            verify(BODY, {"X-HEALTHAPI-SIGNATURE": forged}, cache)
    assert cache.fetches == 1


def test_an_unreachable_keyset_is_transient_and_a_stale_one_is_kept_when_a_refresh_fails():
    def down() -> bytes:
        raise KeysetUnavailable("HTTP 503")

    with pytest.raises(KeysetUnavailable):
        KeysetCache(down).keys()
    ring, now, source = Keyring(seed=4), [0.0], {}
    source["fetch"] = ring.public_keyset
    cache = KeysetCache(lambda: source["fetch"](), clock=lambda: now[0], max_age_s=60)
    assert set(cache.keys()) == {ring.primary.key_id}
    source["fetch"], now[0] = down, 120.0
    assert set(cache.keys()) == {ring.primary.key_id}


def test_a_keyset_without_a_usable_key_is_refused():
    with pytest.raises(KeysetUnavailable):
        parse_keyset(b'{"primaryKeyId": 1, "key": [{"keyData": {"typeUrl": "type.googleapis.com/other"}}]}')
    with pytest.raises(KeysetUnavailable):
        parse_keyset(b"<html>")
