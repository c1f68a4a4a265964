"""The 一网通办 service-items adapter: the client against the sandbox peer over loopback HTTP,
the peer's signature checks, idempotency and fault knobs, and its pages (unified login included).

No mocks: the sandbox (the same app as the unified-login provider) runs in a thread on 127.0.0.1;
``requests`` plays the portal's back channel and the applicant's browser.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from urllib.parse import urljoin

import pytest
import requests

from adapters import signing
from adapters.gov_platform.client import ServiceItemsClient, local_iso
from adapters.gov_platform.errors import GovPlatformError
from adapters.gov_platform.sandbox import create_sandbox_app
from adapters.gov_platform.service_items import API_PREFIX, HEADER_APP_ID, HEADERS
from adapters.sandbox_server import serve_built_in_thread, stop_server
from tests.adapters.gov_helpers import CLIENT, faults_off, peer_fixture

APP_ID, SECRET = "wanggong-portal", "test-gov-secret"
RECEIVED = datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc)  # 2026年3月2日 09:30 in Hefei


peer = peer_fixture({APP_ID: SECRET})


@pytest.fixture
def url(peer):
    base, state = peer
    with faults_off(state):
        yield base


@pytest.fixture
def state(peer):
    return peer[1]


@pytest.fixture
def client(url):
    c = ServiceItemsClient(url, APP_ID, SECRET, timeout=3)
    yield c
    c.close()


def _item_no() -> str:
    return "GSRD" + uuid.uuid4().hex[:12].upper()


def _register(client, item_no, sub="np-0001", name="张伟", kind="natural"):
    return client.register_item(item_no=item_no, item_code="340000-GS-RD-001", item_name="工伤认定",
                                applicant_sub=sub, applicant_name=name, applicant_kind=kind,
                                department="合肥市人力资源和社会保障局", city_code="340100", received_at=RECEIVED)


def _event(client, item_no, event_id, stage="accepted", label="已受理", **extra):
    return client.report_event(item_no=item_no, event_id=event_id, stage=stage, stage_label=label,
                               occurred_at=RECEIVED, detail="材料齐全，予以受理", **extra)


# --- protocol -------------------------------------------------------------------------------------


def test_times_are_sent_in_china_standard_time():
    assert local_iso(RECEIVED) == "2026-03-02T09:30:00+08:00"
    with pytest.raises(ValueError):
        local_iso(datetime(2026, 3, 2, 9, 30))


def test_register_update_and_report_events_idempotently(client, state):
    item_no = _item_no()
    assert _register(client, item_no)["created"] is True
    assert _register(client, item_no)["created"] is False  # an update, not a second item

    first = _event(client, item_no, f"{item_no}:accepted")
    again = _event(client, item_no, f"{item_no}:accepted")
    assert first["duplicate"] is False and again["duplicate"] is True
    assert again["recorded_at"] == first["recorded_at"]  # the first answer, repeated

    held = client.get_item(item_no)
    assert [e["stage"] for e in held["events"]] == ["accepted"]
    assert held["received_at"] == "2026-03-02T09:30:00+08:00"
    assert state.event_posts[f"{item_no}:accepted"] == 2


def test_completion_answers_with_evaluation_also_on_duplicate(client, url):
    item_no = _item_no()
    _register(client, item_no)
    done = _event(client, item_no, f"{item_no}:done", stage="completed", label="办结", completed=True,
                  result="认定工伤")
    evaluation = done["evaluation"]
    assert evaluation["url"].startswith(f"{url}/gov/evaluate/")
    assert evaluation["expires_at"].endswith("+08:00")
    repeat = _event(client, item_no, f"{item_no}:done", stage="completed", label="办结", completed=True,
                    result="认定工伤")
    assert repeat["duplicate"] is True and repeat["evaluation"] == evaluation

    with pytest.raises(GovPlatformError) as info:  # nothing new after completion
        _event(client, item_no, f"{item_no}:late", stage="served", label="已送达")
    assert (info.value.status, info.value.code, info.value.retryable) == (409, "item_completed", False)
    with pytest.raises(GovPlatformError) as info:
        _register(client, item_no)
    assert info.value.code == "item_completed"


def test_unknown_item_and_invalid_payload_are_refused(client):
    with pytest.raises(GovPlatformError) as info:
        _event(client, _item_no(), "e-1")
    assert (info.value.status, info.value.code, info.value.retryable) == (404, "item_not_found", False)
    assert client.get_item(_item_no()) is None
    item_no = _item_no()
    _register(client, item_no)
    with pytest.raises(GovPlatformError) as info:  # a completion without its result
        _event(client, item_no, f"{item_no}:x", stage="completed", label="办结", completed=True)
    assert (info.value.status, info.value.code) == (422, "invalid_payload")
    with pytest.raises(GovPlatformError) as info:  # a time without offset
        client.report_event(item_no=item_no, event_id=f"{item_no}:y", stage="accepted", stage_label="已受理",
                            occurred_at="2026-03-02T09:30:00")
    assert info.value.code == "invalid_payload"


# --- signatures -----------------------------------------------------------------------------------


def _signed_put(url, item_no, body: bytes, *, key=SECRET, app_id=APP_ID, headers=None):
    path = f"{API_PREFIX}/service-items/{item_no}"
    signed = headers or signing.signed_headers(HEADERS, key.encode(), "PUT", path, body)
    return requests.put(url + path, data=body, timeout=5,
                        headers={**signed, HEADER_APP_ID: app_id, "Content-Type": "application/json"})


def _item_body(item_no) -> dict:
    return {"item_no": item_no, "item_code": "340000-GS-RD-001", "item_name": "工伤认定",
            "applicant_sub": "np-0001", "applicant_name": "张伟", "applicant_kind": "natural",
            "department": "合肥市人力资源和社会保障局", "city_code": "340100",
            "received_at": "2026-03-02T09:30:00+08:00"}


def test_signature_tampering_is_refused(url, state):
    item_no = _item_no()
    body = json.dumps(_item_body(item_no)).encode()
    path = f"{API_PREFIX}/service-items/{item_no}"
    headers = signing.signed_headers(HEADERS, SECRET.encode(), "PUT", path, body)
    tampered = body.replace(b"np-0001", b"np-0002")
    refused = _signed_put(url, item_no, tampered, headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "bad_signature"
    assert _signed_put(url, item_no, body, key="guessed-secret").json()["code"] == "bad_signature"
    assert _signed_put(url, item_no, body, app_id="someone-else").json()["code"] == "unknown_app"
    assert state.item(item_no) is None

    accepted = _signed_put(url, item_no, body, headers=headers)
    assert accepted.status_code == 201
    # The answer is signed for the same path, so the portal can tell it from a proxy's page.
    signing.verify(HEADERS, SECRET.encode(), signing.RESPONSE_METHOD, path, accepted.headers, accepted.content)
    replay = _signed_put(url, item_no, body, headers=headers)
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_nonce"


def test_client_with_wrong_secret_gets_no_usable_answer(url):
    wrong = ServiceItemsClient(url, APP_ID, "guessed-secret", timeout=3)
    with pytest.raises(GovPlatformError) as info:
        _register(wrong, _item_no())
    assert info.value.code == "unsigned_answer" and info.value.status == 401


# --- faults ---------------------------------------------------------------------------------------


def _faults(url, **body):
    answer = requests.post(f"{url}/gov/_sandbox/faults", json=body, timeout=5)
    assert answer.status_code == 200, answer.text


def test_peer_down_answers_503_without_acting(client, url, state):
    item_no = _item_no()
    _faults(url, mode="down")
    with pytest.raises(GovPlatformError) as info:
        _register(client, item_no)
    assert (info.value.code, info.value.status, info.value.retryable) == ("server_error", 503, True)
    assert state.item(item_no) is None


def test_peer_slow_records_then_answers_too_late(url, state):
    item_no = _item_no()
    fast = ServiceItemsClient(url, APP_ID, SECRET, timeout=3)
    _register(fast, item_no)
    _faults(url, mode="slow", delay_seconds=1.5)
    impatient = ServiceItemsClient(url, APP_ID, SECRET, timeout=0.5)
    with pytest.raises(GovPlatformError) as info:
        _event(impatient, item_no, f"{item_no}:accepted")
    assert info.value.code == "timeout" and info.value.retryable
    assert [e.stage for e in state.events_of(item_no)] == ["accepted"]  # it did arrive


def test_unreachable_peer_is_retryable():
    closed = ServiceItemsClient("http://127.0.0.1:9", APP_ID, SECRET, timeout=1)
    with pytest.raises(GovPlatformError) as info:
        _register(closed, _item_no())
    assert info.value.code == "unreachable" and info.value.retryable
    assert isinstance(info.value.__cause__, requests.ConnectionError)


def test_fault_knobs_exist_only_in_testing_mode():
    server, thread, url = serve_built_in_thread(
        lambda base: create_sandbox_app(issuer=base, clients=[CLIENT], service_item_apps={APP_ID: SECRET}))
    try:
        assert requests.post(f"{url}/gov/_sandbox/faults", json={"mode": "down"}, timeout=5).status_code == 404
    finally:
        stop_server(server, thread)


def test_items_survive_a_restart_with_a_data_file(tmp_path):
    data_file = tmp_path / "items.json"
    item_no = _item_no()
    for attempt in range(2):
        server, thread, url = serve_built_in_thread(lambda base: create_sandbox_app(
            issuer=base, clients=[CLIENT], service_item_apps={APP_ID: SECRET}, service_items_file=data_file))
        try:
            client = ServiceItemsClient(url, APP_ID, SECRET, timeout=3)
            if attempt == 0:
                _register(client, item_no)
                _event(client, item_no, f"{item_no}:accepted")
            else:
                assert _event(client, item_no, f"{item_no}:accepted")["duplicate"] is True
                assert len(client.get_item(item_no)["events"]) == 1
        finally:
            stop_server(server, thread)


# --- pages ----------------------------------------------------------------------------------------


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(browser: requests.Session, url: str, username: str) -> requests.Response:
    """The platform's own login form, as a browser submits it; follows the redirect back."""
    page = browser.get(f"{url}/gov/my-items", timeout=5)
    assert "/gov/login" in page.url and "统一身份认证登录" in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    return browser.post(urljoin(page.url, action), timeout=5,
                        data={"csrf_token": _csrf(page.text), "username": username, "password": "demo"})


def test_my_items_needs_the_unified_login_and_shows_only_own_items(client, url):
    mine, theirs = _item_no(), _item_no()
    _register(client, mine, sub="np-0001", name="张伟")
    _event(client, mine, f"{mine}:accepted")
    _register(client, theirs, sub="lp-0001", name="安徽皖建建设工程有限公司", kind="legal")

    with requests.Session() as browser:
        first = browser.get(f"{url}/gov/my-items", timeout=5, allow_redirects=False)
        assert first.status_code == 303 and "/gov/login?next=" in first.headers["Location"]

        page = _sign_in(browser, url, "worker")
        assert page.url == f"{url}/gov/my-items" and "<h1>我的办件</h1>" in page.text
        assert mine in page.text and theirs not in page.text
        assert "已受理" in page.text and "2026年3月2日 09:30" in page.text

    with requests.Session() as browser:
        page = _sign_in(browser, url, "employer")
        assert theirs in page.text and mine not in page.text


def test_login_refuses_wrong_password_and_foreign_next(url):
    with requests.Session() as browser:
        page = browser.get(f"{url}/gov/login", params={"next": "https://evil.example/"}, timeout=5)
        assert 'action="/gov/login?next=/gov/my-items"' in page.text  # a foreign target: back to ours
        wrong = browser.post(f"{url}/gov/login", timeout=5,
                             data={"csrf_token": _csrf(page.text), "username": "worker", "password": "nope"})
        assert "用户名或密码错误" in wrong.text
        missing = browser.post(f"{url}/gov/login", timeout=5, data={"csrf_token": _csrf(page.text)})
        assert missing.status_code == 422 and "请填写用户名" in missing.text
        stale = browser.post(f"{url}/gov/login", timeout=5,
                             data={"csrf_token": "forged", "username": "worker", "password": "demo"})
        assert stale.status_code == 400


def test_operator_view_lists_every_item(client, url):
    item_no = _item_no()
    _register(client, item_no)
    page = requests.get(f"{url}/gov/items", timeout=5)
    assert page.status_code == 200 and "一网通办 办件总览" in page.text and item_no in page.text
    assert page.text.count("<h1>") == 1


def test_evaluation_is_recorded_once(client, url, state):
    item_no = _item_no()
    _register(client, item_no)
    link = _event(client, item_no, f"{item_no}:done", stage="completed", label="办结", completed=True,
                  result="认定工伤")["evaluation"]["url"]
    with requests.Session() as browser:
        form = browser.get(link, timeout=5)
        assert form.status_code == 200 and "政务服务好差评" in form.text and "非常满意" in form.text
        token = _csrf(form.text)
        incomplete = browser.post(link, data={"csrf_token": token, "rating": "1"}, timeout=5)
        assert incomplete.status_code == 422 and "请填写不满意的原因" in incomplete.text
        done = browser.post(link, data={"csrf_token": token, "rating": "5", "comment": "办理很快"}, timeout=5)
        assert done.status_code == 200 and "感谢您的评价" in done.text
        again = browser.post(link, data={"csrf_token": token, "rating": "1", "comment": "改主意"}, timeout=5)
        assert "非常满意" in again.text
    evaluation = state.evaluation(link.rsplit("/", 1)[1])
    assert (evaluation.rating, evaluation.comment) == ("5", "办理很快")
    assert requests.get(f"{url}/gov/evaluate/not-a-token", timeout=5).status_code == 404
