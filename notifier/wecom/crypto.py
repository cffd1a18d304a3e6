"""WeCom's callback crypto (WXBizMsgCrypt), written from the published scheme.

- ``msg_signature = sha1("".join(sorted([token, timestamp, nonce, encrypt])))`` (hex);
- AES-256-CBC, key = base64decode(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to a
  multiple of 32 bytes;
- plaintext = 16 random bytes + 4-byte big-endian length + message + receiveid (the CorpID).

Used by the ``/wecom/callback`` route and by the fake server in ``testing/fakes/wecom.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16


class WeComCryptoError(Exception):
    """A callback that does not verify or decrypt (``str(e)`` is safe to log)."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """WeCom's ``msg_signature``: sha1 over the four values sorted and joined."""
    joined = "".join(sorted([token, timestamp, nonce, encrypt])).encode()
    return hashlib.sha1(joined).hexdigest()  # noqa: S324 -- WeCom's scheme, not our choice


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= BLOCK or data[-n:] != bytes([n]) * n:
        raise WeComCryptoError("bad padding")
    return data[:-n]


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key from the 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise WeComCryptoError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise WeComCryptoError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise WeComCryptoError("EncodingAESKey must decode to 32 bytes")
    return key


@dataclass(frozen=True)
class WeComCrypt:
    """Sign, verify, encrypt and decrypt callbacks for one application."""

    token: str
    encoding_aes_key: str
    receive_id: str  # the CorpID

    def _cipher(self) -> Cipher[modes.CBC]:
        key = aes_key(self.encoding_aes_key)
        return Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def encrypt(self, message: str, *, random16: bytes | None = None) -> str:
        """The base64 ``Encrypt`` value for ``message``."""
        body = message.encode()
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body
        plain += self.receive_id.encode()
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(_pad(plain)) + enc.finalize()).decode()

    def decrypt(self, encrypt: str) -> str:
        """The message in ``encrypt``; raises unless it is well formed and for our CorpID."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise WeComCryptoError("Encrypt is not base64") from None
        if not raw or len(raw) % 16:
            raise WeComCryptoError("Encrypt has a bad length")
        dec = self._cipher().decryptor()
        plain = _unpad(dec.update(raw) + dec.finalize())
        if len(plain) < 20:
            raise WeComCryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        body, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(body) != length:
            raise WeComCryptoError("bad message length")
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise WeComCryptoError("message is for another CorpID")
        try:
            return body.decode()
        except UnicodeDecodeError:
            raise WeComCryptoError("message is not UTF-8") from None

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        """Our ``msg_signature`` for these values."""
        return signature(self.token, timestamp, nonce, encrypt)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """Raise unless ``msg_signature`` is right."""
        expected = self.sign(timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, msg_signature.lower()):
            raise WeComCryptoError("signature mismatch")

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The URL check (GET): verify and return the decrypted ``echostr``."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def open_post(self, msg_signature: str, timestamp: str, nonce: str, body: bytes) -> str:
        """A callback POST: read ``<Encrypt>`` from the XML body, verify, decrypt."""
        encrypt = xml_field(body, "Encrypt")
        if not encrypt:
            raise WeComCryptoError("no Encrypt element")
        self.verify(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def seal_reply(self, message: str, timestamp: str, nonce: str) -> str:
        """A passive reply (or a pushed callback): the signed, encrypted XML envelope."""
        encrypt = self.encrypt(message)
        sig = self.sign(timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


def xml_fields(body: bytes | str) -> dict[str, str]:
    """The top-level (and one level nested, as ``Parent.Child``) texts of a callback's XML.

    The parser resolves no entities from outside (``xml.etree`` never fetches DTDs).
    """
    if isinstance(body, str):
        body = body.encode()
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise WeComCryptoError("DTDs are not accepted")
    try:
        root = ET.fromstring(body)  # noqa: S314 -- no DTD (refused above), so no entities
    except ET.ParseError:
        raise WeComCryptoError("body is not XML") from None
    out: dict[str, str] = {}
    for child in root:
        out[child.tag] = (child.text or "").strip()
        for grand in child:
            out[f"{child.tag}.{grand.tag}"] = (grand.text or "").strip()
            for great in grand:
                out[f"{child.tag}.{grand.tag}.{great.tag}"] = (great.text or "").strip()
    return out


def xml_field(body: bytes | str, name: str) -> str:
    """One field of :func:`xml_fields` ("" when absent)."""
    return xml_fields(body).get(name, "")
