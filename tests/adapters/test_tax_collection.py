"""The tax collection platform adapter: signing, the client against the sandbox over loopback,
and the sandbox's callback delivery (signed, retried with backoff, bounded)."""

from __future__ import annotations

import re
import socket
import time
from decimal import Decimal

import pytest
import requests
from flask import Flask, request

from adapters.sandbox_server import serve_built_in_thread, serve_in_thread, stop_server
from adapters.tax_collection import signing
from adapters.tax_collection.client import TaxPlatformClient
from adapters.tax_collection.codes import PaymentState
from adapters.tax_collection.errors import SignatureError, TaxPlatformError
from adapters.tax_collection.sandbox import create_tax_sandbox_app

KEY = b"test-tax-key"


# --- signing ---------------------------------------------------------------------------------


def test_signature_matches_fixed_vector():
    # Computed once and cross-checked with `openssl mac -digest SM3 -macopt key:test-key HMAC`.
    assert signing.sign(b"test-key", "POST", "/api/payments/tax-callback", 1700000000,
                        "nonce-0123456789abcdef", b'{"a":1}') == \
        "a201648cb418fd9b1dc093f8c6b52920f812702491d24fff47ed551071be1a48"


def test_verify_accepts_own_signature_and_refuses_tampering():
    body = b'{"amount":"1.00"}'
    headers = signing.signed_headers(KEY, "POST", "/cb", body, now=1_700_000_000)
    assert signing.verify(KEY, "POST", "/cb", headers, body, now=1_700_000_010).timestamp == 1_700_000_000
    for method, path, hdrs, data, key in [
        ("POST", "/cb", headers, b'{"amount":"9.00"}', KEY),  # tampered body
        ("POST", "/other", headers, body, KEY),  # other path
        ("GET", "/cb", headers, body, KEY),  # other method
        ("POST", "/cb", headers, body, b"other-key"),  # other key
        ("POST", "/cb", {**headers, signing.HEADER_NONCE: "x" * 20}, body, KEY),  # other nonce
        ("POST", "/cb", {}, body, KEY),  # unsigned
    ]:
        with pytest.raises(SignatureError) as info:
            signing.verify(key, method, path, hdrs, data, now=1_700_000_010)
        assert info.value.code == "bad_signature"


def test_verify_refuses_stale_timestamp_both_ways():
    body = b"{}"
    headers = signing.signed_headers(KEY, "POST", "/cb", body, now=1_700_000_000)
    for now in (1_700_000_000 + 301, 1_700_000_000 - 301):
        with pytest.raises(SignatureError) as info:
            signing.verify(KEY, "POST", "/cb", headers, body, now=now)
        assert info.value.code == "stale_timestamp"


# --- client ↔ sandbox over loopback -----------------------------------------------------------


@pytest.fixture
def sandbox():
    holder = {}

    def build(url):
        holder["app"] = create_tax_sandbox_app(base_url=url, signing_key=KEY,
                                               portal_callback_url="http://127.0.0.1:9/cb",
                                               callback_attempts=1, callback_backoff_seconds=0.01,
                                               callback_timeout_seconds=0.5)
        return holder["app"]

    server, thread, url = serve_built_in_thread(build)
    yield url, holder["app"].extensions["tax_sandbox"]
    stop_server(server, thread)


def _issue(client: TaxPlatformClient, number="GS20261123000001", amount=Decimal("1500.00")) -> str:
    return client.issue_reference(bill_number=number, amount=amount, payer="某建设集团有限公司",
                                  purpose="项目参保保费", city_code="340100")


def test_reference_issued_idempotently_and_payment_queried(sandbox):
    url, state = sandbox
    client = TaxPlatformClient(url, KEY, timeout=3)
    reference = _issue(client)
    assert re.fullmatch(r"34\d{18}", reference)
    assert _issue(client) == reference  # same bill number, same reference
    status = client.query_payment(reference)
    assert status.state is PaymentState.UNPAID and status.paid_at is None
    state.pay(reference)
    status = client.query_payment(reference)
    assert status.state is PaymentState.PAID
    assert status.amount == Decimal("1500.00") and status.paid_at.tzinfo is not None
    assert client.query_payment("34000000000000000000").state is PaymentState.NOT_FOUND


def test_same_bill_number_with_other_amount_is_refused(sandbox):
    client = TaxPlatformClient(sandbox[0], KEY, timeout=3)
    _issue(client)
    with pytest.raises(TaxPlatformError) as info:
        _issue(client, amount=Decimal("1.00"))
    assert info.value.status == 409


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_slow_overloaded_or_foreign_platform_is_unknown(sandbox):
    url, state = sandbox
    with pytest.raises(TaxPlatformError) as info:
        TaxPlatformClient(f"http://127.0.0.1:{_free_port()}", KEY, timeout=1).query_payment("x")
    assert info.value.code == "unreachable" and isinstance(info.value.__cause__, requests.ConnectionError)

    reference = _issue(TaxPlatformClient(url, KEY, timeout=3))
    state.api_delay_seconds = 1.5
    with pytest.raises(TaxPlatformError) as info:
        TaxPlatformClient(url, KEY, timeout=0.5).query_payment(reference)
    assert info.value.code == "timeout"
    state.api_delay_seconds = 0

    state.api_unavailable = True
    with pytest.raises(TaxPlatformError) as info:
        TaxPlatformClient(url, KEY, timeout=3).query_payment(reference)
    assert info.value.code == "server_error"
    state.api_unavailable = False

    # Another key: the platform refuses us, and its answer is not signed with our key either.
    with pytest.raises(TaxPlatformError) as info:
        TaxPlatformClient(url, b"wrong-key", timeout=3).query_payment(reference)
    assert info.value.code == "unsigned_answer"


def test_sandbox_refuses_replayed_request(sandbox):
    url, _ = sandbox
    path = "/api/v1/payment-orders/abc"
    headers = signing.signed_headers(KEY, "GET", path, b"")
    assert requests.get(url + path, headers=headers, timeout=3).json()["code"] == "2001"
    replay = requests.get(url + path, headers=headers, timeout=3)
    assert replay.status_code == 401 and replay.json()["code"] == "1003"


def test_pay_page_is_chinese_accessible_and_script_free(sandbox):
    url, state = sandbox
    reference = _issue(TaxPlatformClient(url, KEY, timeout=3))
    page = requests.get(f"{url}/pay/{reference}", timeout=3)
    html = page.text
    assert page.status_code == 200 and '<html lang="zh-CN">' in html
    assert html.count("<h1>") == 1 and "确认缴费" in html and "1,500.00" in html
    assert "<script" not in html and "onclick" not in html and "style=" not in html
    assert "script-src" not in page.headers["Content-Security-Policy"]
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    assert requests.post(f"{url}/pay/{reference}", data={"token": "0" * 64}, timeout=3).status_code == 400
    done = requests.post(f"{url}/pay/{reference}", data={"token": token}, timeout=3)
    assert done.status_code == 200 and "缴费成功" in done.text
    assert state.get(reference).status is PaymentState.PAID


# --- callback delivery ------------------------------------------------------------------------


def _receiver(fail_first: int):
    app = Flask("receiver")
    seen: list[dict] = []

    @app.post("/cb")
    def cb():
        body = request.get_data()
        verified = signing.verify(KEY, "POST", "/cb", request.headers, body)
        seen.append({"nonce": verified.nonce, "json": request.get_json()})
        return ("", 503) if len(seen) <= fail_first else ("", 204)

    return app, seen


def _sandbox_calling(callback_url: str, attempts: int):
    holder = {}

    def build(url):
        holder["app"] = create_tax_sandbox_app(base_url=url, signing_key=KEY, portal_callback_url=callback_url,
                                               callback_attempts=attempts, callback_backoff_seconds=0.05)
        return holder["app"]

    server, thread, url = serve_built_in_thread(build)
    return server, thread, url, holder["app"].extensions["tax_sandbox"]


def test_callback_is_signed_retried_with_same_message_id_until_accepted():
    receiver, seen = _receiver(fail_first=2)
    rserver, rthread = serve_in_thread(receiver)
    server, thread, url, state = _sandbox_calling(f"http://127.0.0.1:{rserver.server_port}/cb", attempts=5)
    try:
        reference = _issue(TaxPlatformClient(url, KEY, timeout=3))
        started = time.monotonic()
        order = state.pay(reference)
        assert order.delivered.wait(5)
        assert len(seen) == 3 and time.monotonic() - started >= 0.05 + 0.1  # backoff doubles
        assert len({s["json"]["message_id"] for s in seen}) == 1
        assert len({s["nonce"] for s in seen}) == 3  # fresh nonce per attempt
        assert seen[0]["json"] == {"message_id": order.message_id, "reference": reference,
                                   "bill_number": "GS20261123000001", "status": "paid",
                                   "amount": "1500.00", "paid_at": order.paid_at.isoformat()}
        assert [d.status for d in order.deliveries] == [503, 503, 204]
        assert state.pay(reference) is order and len(seen) == 3  # paying twice sends nothing new
    finally:
        stop_server(server, thread)
        stop_server(rserver, rthread)


def test_callback_retries_are_bounded():
    receiver, seen = _receiver(fail_first=100)
    rserver, rthread = serve_in_thread(receiver)
    server, thread, url, state = _sandbox_calling(f"http://127.0.0.1:{rserver.server_port}/cb", attempts=3)
    try:
        order = state.pay(_issue(TaxPlatformClient(url, KEY, timeout=3)))
        assert order.gave_up.wait(5) and not order.delivered.is_set()
        assert len(seen) == 3 and len(order.deliveries) == 3
    finally:
        stop_server(server, thread)
        stop_server(rserver, rthread)


def test_sandbox_needs_a_key():
    with pytest.raises(ValueError):
        create_tax_sandbox_app(base_url="http://127.0.0.1:1", portal_callback_url="http://x/cb", signing_key=b"")
