"""The simulator's own webhook signing keys, published as a Tink JSON public keyset.

Google signs notifications with ECDSA P-256 / SHA-256 and publishes the public half as a Tink keyset
(team spec §6.4). The simulator does the same with test keys derived from its seed, so a pipeline
pointed at ``/webhooks/public_keyset.json`` verifies exactly as it would against Google:

- keyset: ``{"primaryKeyId", "key": [{"keyData": {"typeUrl": "type.googleapis.com/google.crypto.tink.
  EcdsaPublicKey", "value": base64(EcdsaPublicKey proto), "keyMaterialType": "ASYMMETRIC_PUBLIC"},
  "status": "ENABLED", "keyId", "outputPrefixType": "TINK"}]}``;
- ``EcdsaPublicKey`` proto: ``params`` (2) = {hash_type (1) SHA256 = 3, curve (2) NIST_P256 = 2,
  encoding (3) DER = 2}, ``x`` (3), ``y`` (4), big-endian; ``version`` 0 is omitted as proto3 does;
- a signature is ``0x01`` + the primary key id (4 bytes, big-endian) + the DER ECDSA signature, base64.

Written independently of the pipeline's reader (``fitbit.webhooks.signature``); the tests check both
against Google's Tink library.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

TYPE_URL = "type.googleapis.com/google.crypto.tink.EcdsaPublicKey"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


@dataclass(frozen=True)
class SigningKey:
    key_id: int
    private: ec.EllipticCurvePrivateKey

    def public_proto(self) -> bytes:
        numbers = self.private.public_key().public_numbers()
        params = _field(1, 3) + _field(2, 2) + _field(3, 2)
        return _field(2, params) + _field(3, numbers.x.to_bytes(32, "big")) + _field(4, numbers.y.to_bytes(32, "big"))

    def sign(self, body: bytes) -> bytes:
        """Tink output: 0x01, the key id, then the DER signature over ``body``."""
        return b"\x01" + self.key_id.to_bytes(4, "big") + self.private.sign(body, ec.ECDSA(hashes.SHA256()))


def derive_key(seed: int, generation: int) -> SigningKey:
    """A deterministic key for (seed, generation): the same simulator run always publishes the same keys."""
    digest = hashlib.sha256(f"{seed}:webhook-signing-key:{generation}".encode()).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    key_id = int.from_bytes(hashlib.sha256(digest).digest()[:4], "big") or 1
    return SigningKey(key_id, ec.derive_private_key(scalar, ec.SECP256R1()))


class Keyring:
    """The current signing key and the public keyset Google would serve; ``rotate`` adds a new primary."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._generation = 0
        self.keys = [derive_key(seed, 0)]

    @property
    def primary(self) -> SigningKey:
        return self.keys[-1]

    def rotate(self, keep_old: bool = True) -> SigningKey:
        with self._lock:
            self._generation += 1
            key = derive_key(self._seed, self._generation)
            self.keys = [*self.keys, key] if keep_old else [key]
            return key

    def sign(self, body: bytes) -> str:
        return base64.b64encode(self.primary.sign(body)).decode()

    def public_keyset(self) -> bytes:
        entries = [{"keyData": {"typeUrl": TYPE_URL, "value": base64.b64encode(k.public_proto()).decode(),
                                "keyMaterialType": "ASYMMETRIC_PUBLIC"},
                    "status": "ENABLED", "keyId": k.key_id, "outputPrefixType": "TINK"} for k in self.keys]
        return json.dumps({"primaryKeyId": self.primary.key_id, "key": entries}, indent=2).encode()
