"""Keyring.encrypt_bytes / decrypt_bytes: the file form of the personal-data encryption."""

import pytest

from portal.security.crypto import DecryptionError, Keyring, new_key_hex, parse_keyring

SM4 = parse_keyring("a:" + "00" * 16 + ",b:" + "11" * 16, "b")


@pytest.mark.parametrize("keyring", [SM4, parse_keyring("x:" + new_key_hex("AES"), "x", "AES")], ids=["sm4", "aes"])
def test_round_trip_with_the_key_id_in_front(keyring):
    data = b"%PDF-1.7\n" + bytes(range(256)) * 10
    sealed = keyring.encrypt_bytes(data, b"ctx")
    assert sealed.startswith(f"v1.{keyring.active}.".encode()) and data[:20] not in sealed
    assert Keyring.bytes_key_id(sealed) == keyring.active
    assert keyring.decrypt_bytes(sealed, b"ctx") == data
    assert keyring.encrypt_bytes(data, b"ctx") != sealed  # a fresh nonce every time
    assert keyring.decrypt_bytes(keyring.encrypt_bytes(b"", b"c"), b"c") == b""


def test_wrong_context_tampering_and_unknown_keys_are_refused():
    sealed = SM4.encrypt_bytes(b"hello", b"ctx")
    with pytest.raises(DecryptionError):
        SM4.decrypt_bytes(sealed, b"other")
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(DecryptionError):
        SM4.decrypt_bytes(bytes(tampered), b"ctx")
    with pytest.raises(DecryptionError):
        parse_keyring("c:" + "22" * 16, "c").decrypt_bytes(sealed, b"ctx")
    for junk in (b"", b"hello", b"v2.b.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", b"v1.b.short"):
        with pytest.raises(DecryptionError):
            SM4.decrypt_bytes(junk, b"ctx")


def test_an_older_key_stays_readable_after_the_active_key_changes():
    old = parse_keyring("a:" + "00" * 16, "a")
    sealed = old.encrypt_bytes(b"material", b"k")
    assert SM4.decrypt_bytes(sealed, b"k") == b"material"
    assert Keyring.bytes_key_id(sealed) == "a" != SM4.active
