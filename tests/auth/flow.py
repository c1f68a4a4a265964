"""Helpers for tests that drive the unified login over real HTTP and look for personal numbers
in whatever it leaves behind (database rows, URLs, logs)."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qs, urlparse

import requests

HIDDEN = re.compile(r'name="csrf_token" value="([^"]+)"')

#: The demo worker's numbers (config/sandbox_accounts.toml) and a bank account number.
ID_NUMBER = "340104199003071235"
PHONE = "13955100001"
BANK = "6222021234567890123"


def sign_in(http: requests.Session, stack, username: str, next_path: str = "/home/"):
    """Start at the portal's /login, fill the sandbox's form, follow the redirects back."""
    page = http.get(f"{stack.portal_url}/login", params={"next": next_path}, timeout=10)
    assert page.url.startswith(stack.sandbox_url + "/authorize"), page.url
    query = parse_qs(urlparse(page.url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"][0] and query["state"][0]
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    return http.post(stack.sandbox_url + action if action.startswith("/") else action,
                     data={"csrf_token": HIDDEN.search(page.text).group(1), "username": username,
                           "password": "demo"}, timeout=10)


def encodings_of(secret: str) -> set[str]:
    """``secret`` in clear and as it shows inside any base64 or base64url text, whatever its
    offset in the encoded bytes (a JWT's claims, a JSON blob): for each of the three byte
    alignments, the characters that depend on the secret's bytes alone."""
    found = {secret}
    raw = secret.encode("utf-8")
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii").rstrip("=")
        start = -(-8 * shift // 6)          # first character made of the secret's bits only
        end = (8 * (shift + len(raw))) // 6  # last one before bits of whatever follows
        core = encoded[start:end]
        found |= {core, core.replace("+", "-").replace("/", "_")}
    return found


def personal_numbers(*numbers: str) -> set[str]:
    """Every needle for the given numbers (default: ID, phone and bank number)."""
    return set().union(*(encodings_of(n) for n in (numbers or (ID_NUMBER, PHONE, BANK))))


def leaks(text: str, *numbers: str) -> list[str]:
    """The needles of ``numbers`` found in ``text``, also after base64(url)-decoding each of its
    URL-safe words (so a short value that decodes to a number is caught too)."""
    needles = personal_numbers(*numbers)
    found = [n for n in needles if n in text]
    for word in re.findall(r"[A-Za-z0-9+/_-]{8,}=*", text):
        padded = word.replace("-", "+").replace("_", "/").rstrip("=")
        try:
            decoded = base64.b64decode(padded + "=" * (-len(padded) % 4)).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            continue
        found += [n for n in numbers or (ID_NUMBER, PHONE, BANK) if n in decoded]
    return found
