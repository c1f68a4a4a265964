"""SM4-GCM sealing of an ID number, as a ratio against AES-256-GCM in the same run.

Target: SM4 costs at most 5x AES per value (both are native code in `cryptography`), so
encrypting every personal field is never what limits a page.
"""

import os
import time

from portal.security.crypto import parse_keyring

VALUE = "340104199003071235"
ROUNDS = 20_000


def _rate(ring) -> float:
    start = time.perf_counter()
    for _ in range(ROUNDS):
        ring.decrypt(ring.encrypt(VALUE, b"person.id_number"), b"person.id_number")
    return ROUNDS / (time.perf_counter() - start)


def main() -> dict:
    sm4 = parse_keyring("s:" + os.urandom(16).hex(), "s", "SM4")
    aes = parse_keyring("a:" + os.urandom(32).hex(), "a", "AES")
    _rate(sm4), _rate(aes)  # warm up
    sm4_rate, aes_rate = _rate(sm4), _rate(aes)
    ratio = aes_rate / sm4_rate
    print(f"crypto: SM4-GCM {sm4_rate:,.0f} seal+open/s, AES-GCM baseline {aes_rate:,.0f}/s, "
          f"SM4 cost = {ratio:.2f}x AES (target <= 5x) {'OK' if ratio <= 5 else 'OVER TARGET'}")
    return {"sm4_per_s": sm4_rate, "aes_per_s": aes_rate, "ratio": ratio}
