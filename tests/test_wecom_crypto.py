"""WeCom callback crypto (WXBizMsgCrypt) checked against an independent reading of the scheme:
signature, AES-256-CBC with IV = key[:16], PKCS#7 to 32 bytes, random + length + msg + corp."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from notifier.wecom.crypto import WeComCrypt, WeComCryptoError, signature, xml_fields
from testing.fakes.wecom import new_aes_key

CORP = "wwcorp0001"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as in the docs


def _raw_decrypt(key43: str, encrypt: str) -> bytes:
    key = base64.b64decode(key43 + "=")
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    return dec.update(base64.b64decode(encrypt)) + dec.finalize()


def test_signature_is_sha1_of_the_sorted_values() -> None:
    expected = hashlib.sha1("".join(sorted(["tok", "1409659813", "nonce", "ENC"])).encode())
    assert signature("tok", "1409659813", "nonce", "ENC") == expected.hexdigest()


def test_encrypt_lays_out_random_length_message_corp_padded_to_32() -> None:
    crypt = WeComCrypt("tok", AES_KEY, CORP)
    encrypt = crypt.encrypt("你好 hello", random16=b"R" * 16)
    plain = _raw_decrypt(AES_KEY, encrypt)
    assert len(plain) % 32 == 0
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad
    body = "你好 hello".encode()
    assert plain[:-pad] == b"R" * 16 + struct.pack(">I", len(body)) + body + CORP.encode()
    assert crypt.decrypt(encrypt) == "你好 hello"


def test_message_of_exactly_a_block_gets_a_full_pad_block() -> None:
    crypt = WeComCrypt("tok", AES_KEY, "c" * 8)
    encrypt = crypt.encrypt("x" * 20, random16=b"\0" * 16)  # 16 + 4 + 20 + 8 = 48 bytes
    plain = _raw_decrypt(AES_KEY, encrypt)
    assert len(plain) == 64 and plain[-1] == 16
    assert crypt.decrypt(encrypt) == "x" * 20


def test_url_verification_and_post_round_trip() -> None:
    crypt = WeComCrypt("tok", new_aes_key(), CORP)
    echo = crypt.encrypt("1234567890")
    sig = crypt.sign("1700000000", "n1", echo)
    assert crypt.verify_url(sig, "1700000000", "n1", echo) == "1234567890"
    envelope = crypt.seal_reply("<xml><Content>ok</Content></xml>", "1700000000", "n2")
    fields = xml_fields(envelope)
    body = f"<xml><Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>".encode()
    assert crypt.open_post(fields["MsgSignature"], "1700000000", "n2", body).endswith(
        "<Content>ok</Content></xml>"
    )


def test_tampering_is_refused() -> None:
    crypt = WeComCrypt("tok", AES_KEY, CORP)
    encrypt = crypt.encrypt("hello")
    sig = crypt.sign("1", "n", encrypt)
    with pytest.raises(WeComCryptoError, match="signature"):
        crypt.verify(sig, "2", "n", encrypt)
    with pytest.raises(WeComCryptoError, match="signature"):
        WeComCrypt("other", AES_KEY, CORP).verify(sig, "1", "n", encrypt)
    with pytest.raises(WeComCryptoError, match="CorpID"):
        WeComCrypt("tok", AES_KEY, "someone-else").decrypt(encrypt)
    with pytest.raises(WeComCryptoError):
        WeComCrypt("tok", new_aes_key(), CORP).decrypt(encrypt)
    with pytest.raises(WeComCryptoError, match="base64"):
        crypt.decrypt("not base64!!")
    with pytest.raises(WeComCryptoError, match="43"):
        WeComCrypt("tok", "short", CORP).encrypt("x")


def test_xml_with_a_dtd_is_refused() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'
    with pytest.raises(WeComCryptoError, match="DTD"):
        xml_fields(bomb)
    with pytest.raises(WeComCryptoError, match="XML"):
        xml_fields(b"<xml><unclosed></xml>")
