"""The unified-login sandbox, driven over real loopback HTTP as a browser and a relying party would.

No mocks: the sandbox runs in a thread on 127.0.0.1 (port chosen by the OS); ``requests`` plays
the browser (cookies, no automatic redirects) and the portal's back channel (token, userinfo).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shutil
import stat
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc import discovery as oidc_discovery
from authlib.oidc import rpinitiated
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import JWSRegistry

from adapters.gov_platform.codes import AccountType
from adapters.gov_platform.sandbox import create_sandbox_app
from adapters.gov_platform.sandbox.accounts import load_accounts
from adapters.gov_platform.sandbox.keys import KEY_FILE_NAME
from adapters.gov_platform.sandbox.models import AuthorizationCode, SignedInUser
from adapters.gov_platform.sandbox.storage import CODE_TTL_SECONDS, MemoryStore
from adapters.sandbox_server import serve_built_in_thread, serve_in_thread, stop_server
from tests.helpers import parse

# Relying parties. Their URLs are never contacted: the "browser" stops at each redirect.
PORTAL = {
    "client_id": "wanggong-portal",
    "client_secret": "portal-secret",
    "redirect_uris": ["http://127.0.0.1:5999/auth/callback"],
    "post_logout_redirect_uris": ["http://127.0.0.1:5999/signed-out"],
}
OTHER = {
    "client_id": "other-app",
    "client_secret": "other-secret",
    "redirect_uris": ["http://127.0.0.1:5998/cb"],
    "post_logout_redirect_uris": ["http://127.0.0.1:5998/"],
}
ALL_SCOPES = "openid profile idcard phone org"
TIMEOUT = 10


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def key_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("govid-keys")


@pytest.fixture(scope="module")
def sandbox(key_dir):
    """(issuer, jwks) of one sandbox shared by the module; tests use fresh browsers and nonces."""
    server, thread, issuer = serve_built_in_thread(
        lambda base_url: create_sandbox_app(issuer=base_url, clients=[PORTAL, OTHER], key_dir=key_dir))
    try:
        jwks = _session().get(issuer + "/jwks.json", timeout=TIMEOUT).json()
        yield issuer, jwks
    finally:
        stop_server(server, thread)


@pytest.fixture
def issuer(sandbox):
    return sandbox[0]


@pytest.fixture
def browser():
    with _session() as session:
        yield session


# -- helpers ------------------------------------------------------------------------------------
def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only: never through a proxy from the environment
    return session


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge.rstrip(b"=").decode("ascii")


def auth_params(client=PORTAL, *, scope=ALL_SCOPES, **overrides) -> tuple[dict, str]:
    """Authorization request parameters (and the PKCE verifier); ``None`` overrides drop a key."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "scope": scope,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}, verifier


def open_login_form(browser, issuer, params) -> tuple[str, dict]:
    response = browser.get(issuer + "/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    page = parse(response.text)
    (form,) = page.find("form", method="post")
    hidden = {a["name"]: a.get("value", "") for a in page.find("input", type="hidden")}
    return urljoin(issuer + "/", form["action"]), hidden


def submit_login(browser, issuer, params, username, password="demo") -> requests.Response:
    action, hidden = open_login_form(browser, issuer, params)
    return browser.post(action, data={**hidden, "username": username, "password": password},
                        allow_redirects=False, timeout=TIMEOUT)


def callback_params(response, client=PORTAL) -> dict[str, str]:
    """Query of a redirect to the client's redirect URI (asserting it goes exactly there)."""
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    base, _, query = location.partition("?")
    assert base == client["redirect_uris"][0]
    return {k: v[0] for k, v in parse_qs(query).items()}


def sign_in_for_code(browser, issuer, username, client=PORTAL, scope=ALL_SCOPES):
    params, verifier = auth_params(client, scope=scope)
    returned = callback_params(submit_login(browser, issuer, params, username), client)
    assert returned["state"] == params["state"]
    return returned["code"], verifier, params


def exchange(issuer, code, verifier, client=PORTAL, *, auth="basic", redirect_uri=None):
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri or client["redirect_uris"][0]}
    if verifier is not None:
        data["code_verifier"] = verifier
    kwargs = {}
    if auth == "basic":
        kwargs["auth"] = (client["client_id"], client["client_secret"])
    else:
        data.update(client_id=client["client_id"], client_secret=client["client_secret"])
    return _session().post(issuer + "/token", data=data, timeout=TIMEOUT, **kwargs)


def verify_id_token(id_token, jwks, *, issuer, client_id, nonce, access_token):
    """Signature against the published JWKS, then the claim checks Authlib's client runs."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), registry=JWSRegistry(algorithms=["RS256"]))
    claims = CodeIDToken(token.claims, token.header, {"iss": {"values": [issuer]}},
                         {"nonce": nonce, "client_id": client_id, "access_token": access_token})
    claims.validate(leeway=0)
    return token.header, dict(token.claims)


def userinfo(issuer, access_token) -> requests.Response:
    return _session().get(issuer + "/userinfo", headers={"Authorization": f"Bearer {access_token}"},
                          timeout=TIMEOUT)


IDENTITY_CLAIMS = {"name", "preferred_username", "account_type", "real_name_level", "id_card_number",
                   "phone_number", "uscc", "org_name"}


# -- discovery and keys -------------------------------------------------------------------------
def test_discovery_document_derives_every_url_from_the_issuer(issuer):
    response = _session().get(issuer + "/.well-known/openid-configuration", timeout=TIMEOUT)
    assert response.status_code == 200
    meta = response.json()
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == issuer + "/authorize"
    assert meta["token_endpoint"] == issuer + "/token"
    assert meta["userinfo_endpoint"] == issuer + "/userinfo"
    assert meta["jwks_uri"] == issuer + "/jwks.json"
    assert meta["end_session_endpoint"] == issuer + "/logout"
    assert meta["response_types_supported"] == ["code"]
    assert meta["grant_types_supported"] == ["authorization_code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["subject_types_supported"] == ["public"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert set(meta["scopes_supported"]) == {"openid", "profile", "idcard", "phone", "org"}
    assert {"iss", "sub", "aud", "nonce", "auth_time"} | IDENTITY_CLAIMS <= set(meta["claims_supported"])
    # Authlib's own metadata validation (OpenID Discovery + RP-Initiated Logout) accepts it.
    oidc_discovery.OpenIDProviderMetadata(meta).validate(
        metadata_classes=[rpinitiated.OpenIDProviderMetadata])


def test_jwks_publishes_only_the_public_key_with_its_thumbprint_as_kid(sandbox):
    _, jwks = sandbox
    (key,) = jwks["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert key["kid"] == RSAKey.import_key(key).thumbprint()  # RFC 7638


def test_signing_key_persists_in_key_dir(tmp_path):
    first = create_sandbox_app(issuer="http://127.0.0.1:5100", clients=[PORTAL], key_dir=tmp_path)
    second = create_sandbox_app(issuer="http://127.0.0.1:5100", clients=[PORTAL], key_dir=tmp_path)
    kid = first.test_client().get("/jwks.json").json["keys"][0]["kid"]
    assert second.test_client().get("/jwks.json").json["keys"][0]["kid"] == kid
    assert stat.S_IMODE(os.stat(tmp_path / KEY_FILE_NAME).st_mode) == 0o600
    memory = create_sandbox_app(issuer="http://127.0.0.1:5100", clients=[PORTAL])
    assert memory.test_client().get("/jwks.json").json["keys"][0]["kid"] != kid


# -- the login page -----------------------------------------------------------------------------
def test_login_page_is_chinese_accessible_and_lists_demo_accounts(browser, issuer):
    params, _ = auth_params()
    response = browser.get(issuer + "/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.text
    page = parse(html)

    assert page.find("html", lang="zh-CN")
    assert len(page.h1) == 1 and "统一身份认证" in page.h1[0]
    assert page.title.startswith(page.h1[0])
    # Every visible input has a label tied to it, and the autocomplete tokens browsers expect.
    labels = {a["for"] for a in page.find("label")}
    (username,) = page.find("input", name="username")
    (password,) = page.find("input", name="password")
    assert username["id"] in labels and password["id"] in labels
    assert username["autocomplete"] == "username"
    assert password["autocomplete"] == "current-password" and password["type"] == "password"
    ids = [a["id"] for _, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids))
    # The demo accounts, visible, with their Chinese account types.
    for cells in (("worker", "个人", "张伟"), ("employer", "法人", "王强"), ("clerk", "工作人员", "陈静")):
        assert re.search(r"<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>".format(*cells), html)
    assert "demo" in html
    # CSP-clean: no script at all, no inline style.
    assert not page.find("script") and not page.find("style")
    assert not any("style" in a for _, a in page.tags)
    assert not any(k.startswith("on") for _, a in page.tags for k in a)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "http://127.0.0.1:5999" in csp  # form-action allows the redirect to the client
    # The stylesheet is served and gives a visible focus indicator.
    (link,) = page.find("link", rel="stylesheet")
    css = browser.get(issuer + link["href"], timeout=TIMEOUT)
    assert css.status_code == 200 and ":focus-visible" in css.text


def test_sandbox_uses_its_own_session_cookie(browser, issuer):
    params, _ = auth_params()
    browser.get(issuer + "/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    assert [c.name for c in browser.cookies] == ["govid_session"]
    response = submit_login(browser, issuer, auth_params()[0], "worker")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("govid_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# -- the whole flow, per account type -----------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "account_type", "expected", "absent"),
    [
        ("worker", AccountType.NATURAL,
         {"sub": "np-0001", "name": "张伟", "preferred_username": "worker", "real_name_level": "L3",
          "id_card_number": "340104199003071235", "phone_number": "13955100001"},
         {"uscc", "org_name"}),
        ("employer", AccountType.LEGAL,
         {"sub": "lp-0001", "name": "王强", "preferred_username": "employer",
          "uscc": "91340100MA2N0A1B5E", "org_name": "安徽皖建建设工程有限公司"},
         {"id_card_number", "real_name_level"}),
        ("clerk", AccountType.STAFF,
         {"sub": "st-0001", "name": "陈静", "preferred_username": "clerk"},
         {"id_card_number", "real_name_level", "uscc", "org_name"}),
    ],
)
def test_full_flow(browser, sandbox, username, account_type, expected, absent):
    issuer, jwks = sandbox
    params, verifier = auth_params()

    returned = callback_params(submit_login(browser, issuer, params, username))
    assert returned["state"] == params["state"] and returned["code"]

    response = exchange(issuer, returned["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"].lower() == "bearer" and "refresh_token" not in tokens

    header, claims = verify_id_token(tokens["id_token"], jwks, issuer=issuer, client_id=PORTAL["client_id"],
                                     nonce=params["nonce"], access_token=tokens["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == jwks["keys"][0]["kid"]
    assert claims["iss"] == issuer
    assert claims["aud"] == PORTAL["client_id"]
    assert claims["nonce"] == params["nonce"]
    assert claims["iat"] <= claims["exp"] and claims["auth_time"] <= claims["iat"]
    assert claims["account_type"] == account_type.value
    assert {k: claims.get(k) for k in expected} == expected
    assert not absent & set(claims)

    info = userinfo(issuer, tokens["access_token"])
    assert info.status_code == 200
    assert info.json() == {k: v for k, v in claims.items() if k == "sub" or k in IDENTITY_CLAIMS}

    logout_state = secrets.token_urlsafe(8)
    response = browser.get(issuer + "/logout", params={
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": PORTAL["post_logout_redirect_uris"][0],
        "state": logout_state,
    }, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert response.headers["Location"] == PORTAL["post_logout_redirect_uris"][0] + "?" + urlencode(
        {"state": logout_state})
    # Signed out at the sandbox: the next authorization request asks for the password again.
    open_login_form(browser, issuer, auth_params()[0])


def test_client_secret_post_is_accepted(browser, issuer):
    code, verifier, _ = sign_in_for_code(browser, issuer, "worker")
    response = exchange(issuer, code, verifier, auth="post")
    assert response.status_code == 200, response.text
    assert "id_token" in response.json()


def test_authlib_client_completes_the_flow(browser, sandbox):
    """The portal's client library (Authlib's requests client) interoperates end to end."""
    issuer, jwks = sandbox
    rp = OAuth2Session(PORTAL["client_id"], PORTAL["client_secret"], scope=ALL_SCOPES,
                       redirect_uri=PORTAL["redirect_uris"][0], code_challenge_method="S256")
    rp.trust_env = False
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(issuer + "/authorize", code_verifier=verifier, nonce=nonce)
    response = submit_login(browser, issuer, dict(parse_qsl(urlsplit(url).query)), "employer")
    token = rp.fetch_token(issuer + "/token", authorization_response=response.headers["Location"],
                           state=state, code_verifier=verifier)
    _, claims = verify_id_token(token["id_token"], jwks, issuer=issuer, client_id=PORTAL["client_id"],
                                nonce=nonce, access_token=token["access_token"])
    assert claims["uscc"] == "91340100MA2N0A1B5E"
    assert rp.get(issuer + "/userinfo", timeout=TIMEOUT).json()["org_name"] == "安徽皖建建设工程有限公司"


@pytest.mark.parametrize(
    ("scope", "present", "absent"),
    [
        ("openid", {"sub"}, IDENTITY_CLAIMS),
        ("openid profile", {"sub", "name", "account_type", "real_name_level"},
         {"id_card_number", "phone_number"}),
        ("openid idcard", {"sub", "id_card_number"}, {"name", "phone_number"}),
    ],
)
def test_scope_decides_which_claims_are_released(browser, sandbox, scope, present, absent):
    issuer, jwks = sandbox
    code, verifier, params = sign_in_for_code(browser, issuer, "worker", scope=scope)
    tokens = exchange(issuer, code, verifier).json()
    _, claims = verify_id_token(tokens["id_token"], jwks, issuer=issuer, client_id=PORTAL["client_id"],
                                nonce=params["nonce"], access_token=tokens["access_token"])
    assert present <= set(claims) and not absent & set(claims)
    info = userinfo(issuer, tokens["access_token"]).json()
    assert present <= set(info) and not absent & set(info)


def test_signed_in_browser_gets_a_code_without_the_form_unless_prompt_login(browser, issuer):
    sign_in_for_code(browser, issuer, "worker")

    params, verifier = auth_params()
    response = browser.get(issuer + "/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    returned = callback_params(response)  # straight back: single sign-on
    assert returned["state"] == params["state"]
    assert exchange(issuer, returned["code"], verifier).status_code == 200

    params, _ = auth_params(prompt="login")
    open_login_form(browser, issuer, params)  # asks again

    params, _ = auth_params(OTHER)  # another client of the same platform also gets SSO
    assert callback_params(browser.get(issuer + "/authorize", params=params, allow_redirects=False,
                                       timeout=TIMEOUT), OTHER)["code"]


def test_max_age_exceeded_asks_for_the_password_again(browser, issuer):
    sign_in_for_code(browser, issuer, "worker")
    open_login_form(browser, issuer, auth_params(max_age="0")[0])
    assert callback_params(browser.get(issuer + "/authorize", params=auth_params(max_age="3600")[0],
                                       allow_redirects=False, timeout=TIMEOUT))["code"]


def test_prompt_none_without_a_session_returns_login_required(browser, issuer):
    params, _ = auth_params(prompt="none")
    returned = callback_params(browser.get(issuer + "/authorize", params=params, allow_redirects=False,
                                           timeout=TIMEOUT))
    assert returned["error"] == "login_required" and returned["state"] == params["state"]


# -- rejected authorization requests ------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"code_challenge": None, "code_challenge_method": None}, "invalid_request", id="no-pkce"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="plain-pkce"),
        pytest.param({"code_challenge_method": None}, "invalid_request", id="pkce-without-method"),
        pytest.param({"nonce": None}, "invalid_request", id="no-nonce"),
        pytest.param({"scope": "profile"}, "invalid_scope", id="no-openid-scope"),
        pytest.param({"scope": "openid admin"}, "invalid_scope", id="unknown-scope"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
    ],
)
def test_invalid_authorization_request_goes_back_with_an_error(browser, issuer, overrides, error):
    params, _ = auth_params(**overrides)
    response = browser.get(issuer + "/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    returned = callback_params(response)
    assert returned["error"] == error
    assert returned["state"] == params["state"]
    assert "code" not in returned


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"redirect_uri": "http://127.0.0.1:5999/evil"}, id="unregistered-redirect-uri"),
        pytest.param({"redirect_uri": "http://127.0.0.1:5999/auth/callback/"}, id="not-exact-match"),
        pytest.param({"redirect_uri": OTHER["redirect_uris"][0]}, id="other-clients-redirect-uri"),
        pytest.param({"redirect_uri": None}, id="missing-redirect-uri"),
        pytest.param({"client_id": "nobody"}, id="unknown-client"),
    ],
)
def test_untrusted_redirect_uri_is_never_followed(browser, issuer, overrides):
    params, _ = auth_params(**overrides)
    response = browser.get(issuer + "/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "Location" not in response.headers
    page = parse(response.text)
    assert page.find("html", lang="zh-CN") and page.h1 == ["登录请求无效"]


def test_wrong_password_shows_the_form_again_with_a_chinese_error(browser, issuer):
    params, _ = auth_params()
    response = submit_login(browser, issuer, params, "worker", password="wrong")
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "用户名或密码错误" in response.text
    assert 'value="worker"' in response.text and "wrong" not in response.text
    assert len(parse(response.text).find("div", role="alert")) == 1
    # Not signed in: the next request shows the form again.
    open_login_form(browser, issuer, auth_params()[0])
    assert submit_login(browser, issuer, params, "nobody").status_code == 200


def test_empty_fields_get_field_messages(browser, issuer):
    action, hidden = open_login_form(browser, issuer, auth_params()[0])
    response = browser.post(action, data={**hidden, "username": " ", "password": ""},
                            allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 422
    assert "请填写用户名" in response.text and "请填写密码" in response.text
    page = parse(response.text)
    (username,) = page.find("input", name="username")
    assert username["aria-invalid"] == "true" and page.find("p", id=username["aria-describedby"])


def test_login_post_without_the_csrf_token_is_refused(browser, issuer):
    action, hidden = open_login_form(browser, issuer, auth_params()[0])
    response = browser.post(action, data={"username": "worker", "password": "demo"},
                            allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400 and "Location" not in response.headers
    response = browser.post(action, data={"csrf_token": "forged", "username": "worker", "password": "demo"},
                            allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400 and "Location" not in response.headers


def test_nonce_cannot_be_replayed(browser, issuer):
    code, verifier, params = sign_in_for_code(browser, issuer, "worker")
    replay, _ = auth_params(nonce=params["nonce"])
    returned = callback_params(browser.get(issuer + "/authorize", params=replay, allow_redirects=False,
                                           timeout=TIMEOUT))
    assert returned["error"] == "invalid_request" and "code" not in returned


# -- rejected token requests --------------------------------------------------------------------
def test_wrong_verifier_is_rejected_and_burns_the_code(browser, issuer):
    code, verifier, _ = sign_in_for_code(browser, issuer, "worker")
    other_verifier, _ = pkce_pair()
    response = exchange(issuer, code, other_verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert exchange(issuer, code, verifier).json()["error"] == "invalid_grant"


def test_missing_verifier_is_rejected(browser, issuer):
    code, _, _ = sign_in_for_code(browser, issuer, "worker")
    response = exchange(issuer, code, None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_reused_code_is_rejected_and_revokes_its_tokens(browser, issuer):
    code, verifier, _ = sign_in_for_code(browser, issuer, "worker")
    first = exchange(issuer, code, verifier)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert userinfo(issuer, access_token).status_code == 200

    again = exchange(issuer, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert userinfo(issuer, access_token).status_code == 401


def test_code_for_another_client_is_rejected(browser, issuer):
    code, verifier, _ = sign_in_for_code(browser, issuer, "worker")
    stolen = exchange(issuer, code, verifier, OTHER, redirect_uri=PORTAL["redirect_uris"][0])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # The rightful client can still redeem it.
    assert exchange(issuer, code, verifier).status_code == 200


def test_redirect_uri_must_match_the_authorization_request(browser, issuer):
    code, verifier, _ = sign_in_for_code(browser, issuer, "worker")
    response = exchange(issuer, code, verifier, redirect_uri="http://127.0.0.1:5999/elsewhere")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_codes_expire_after_five_minutes():
    now = [1_000_000.0]
    store = MemoryStore(clock=lambda: now[0])
    user = SignedInUser(load_accounts().by_sub("np-0001"), auth_time=int(now[0]))

    def issue(code: str, nonce: str) -> None:
        store.save_code(AuthorizationCode(
            code=code, client_id="c", redirect_uri="http://127.0.0.1:5999/cb", scope="openid", user=user,
            nonce=nonce, code_challenge="x" * 43, code_challenge_method="S256",
            expires_at=now[0] + CODE_TTL_SECONDS))

    issue("fresh", "n1")
    issue("stale", "n2")
    assert store.redeem_code("fresh", "c") is not None
    now[0] += CODE_TTL_SECONDS
    assert store.redeem_code("stale", "c") is None
    assert store.nonce_used("c", "n2")  # the nonce stays spent after its code is gone


def test_client_must_authenticate(browser, issuer):
    code, verifier, _ = sign_in_for_code(browser, issuer, "worker")
    wrong = {**PORTAL, "client_secret": "guess"}
    response = exchange(issuer, code, verifier, wrong)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    public = _session().post(issuer + "/token", timeout=TIMEOUT, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": PORTAL["redirect_uris"][0], "client_id": PORTAL["client_id"]})
    assert public.status_code in (400, 401) and public.json()["error"] == "invalid_client"


def test_userinfo_requires_a_valid_bearer_token(issuer):
    response = _session().get(issuer + "/userinfo", timeout=TIMEOUT)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert userinfo(issuer, "not-a-token").status_code == 401


# -- logout -------------------------------------------------------------------------------------
def _signed_in_tokens(browser, issuer, username="worker", client=PORTAL):
    code, verifier, _ = sign_in_for_code(browser, issuer, username, client)
    return exchange(issuer, code, verifier, client).json()


def _still_signed_in(browser, issuer) -> bool:
    response = browser.get(issuer + "/authorize", params=auth_params()[0], allow_redirects=False,
                           timeout=TIMEOUT)
    return response.status_code == 302


def _logout_naming(browser, issuer, tokens, client, *, post: bool = False):
    """Log out naming ``client``: its id and its first registered post-logout URI."""
    fields = {"id_token_hint": tokens["id_token"], "client_id": client["client_id"],
              "post_logout_redirect_uri": client["post_logout_redirect_uris"][0]}
    if post:
        return browser.post(issuer + "/logout", data=fields, allow_redirects=False, timeout=TIMEOUT)
    return browser.get(issuer + "/logout", params=fields, allow_redirects=False, timeout=TIMEOUT)


def test_logout_by_post_with_client_id(browser, issuer):
    tokens = _signed_in_tokens(browser, issuer)
    response = _logout_naming(browser, issuer, tokens, PORTAL, post=True)
    assert response.status_code == 302
    assert response.headers["Location"] == PORTAL["post_logout_redirect_uris"][0]
    assert not _still_signed_in(browser, issuer)


def test_logout_to_an_unregistered_uri_signs_out_without_redirecting(browser, issuer):
    tokens = _signed_in_tokens(browser, issuer)
    for target in ("http://127.0.0.1:5999/evil", OTHER["post_logout_redirect_uris"][0]):
        response = browser.get(issuer + "/logout", params={
            "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": target, "state": "s"},
            allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 200 and "Location" not in response.headers
        assert parse(response.text).h1 == ["已退出"] and "未登记" in response.text
    assert not _still_signed_in(browser, issuer)


def test_logout_with_mismatching_client_id_does_not_redirect(browser, issuer):
    tokens = _signed_in_tokens(browser, issuer)
    response = _logout_naming(browser, issuer, tokens, OTHER)
    assert response.status_code == 200 and "Location" not in response.headers


def test_logout_without_a_valid_hint_asks_first(browser, issuer):
    _signed_in_tokens(browser, issuer)
    forged_key = RSAKey.generate_key(2048, private=True)
    forged = jwt.encode({"alg": "RS256"}, {"iss": issuer, "aud": PORTAL["client_id"], "sub": "np-0001"},
                        forged_key)
    for params in ({}, {"id_token_hint": forged,
                        "post_logout_redirect_uri": PORTAL["post_logout_redirect_uris"][0]}):
        response = browser.get(issuer + "/logout", params=params, allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 200 and "Location" not in response.headers
        page = parse(response.text)
        assert page.h1 == ["确认退出"]
        assert _still_signed_in(browser, issuer)

    hidden = {a["name"]: a.get("value", "") for a in page.find("input", type="hidden")}
    response = browser.post(issuer + "/logout", data=hidden, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 200 and "Location" not in response.headers  # §4: no redirect
    assert parse(response.text).h1 == ["已退出"]
    assert not _still_signed_in(browser, issuer)


def test_logout_hint_from_another_issuer_is_not_trusted(browser, sandbox, key_dir):
    issuer, jwks = sandbox
    # Same signing key (same key_dir), different issuer: the signature verifies, iss is wrong.
    server, thread, other_issuer = serve_built_in_thread(
        lambda base_url: create_sandbox_app(issuer=base_url, clients=[PORTAL], key_dir=key_dir))
    try:
        with _session() as other_browser:
            tokens = _signed_in_tokens(other_browser, other_issuer)
        _signed_in_tokens(browser, issuer)
        hint = tokens["id_token"]
        assert jwt.decode(hint, KeySet.import_key_set(jwks)).claims["iss"] == other_issuer
        response = browser.get(issuer + "/logout", params={
            "id_token_hint": hint, "post_logout_redirect_uri": PORTAL["post_logout_redirect_uris"][0]},
            allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 200 and "Location" not in response.headers
        assert _still_signed_in(browser, issuer)
    finally:
        stop_server(server, thread)


def test_logout_with_a_valid_hint_redirects_even_when_already_signed_out(browser, issuer):
    tokens = _signed_in_tokens(browser, issuer)
    browser.cookies.clear()
    response = browser.get(issuer + "/logout", params={
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": PORTAL["post_logout_redirect_uris"][0],
        "state": "x"}, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert response.headers["Location"] == PORTAL["post_logout_redirect_uris"][0] + "?state=x"


def _sid(issuer, jwks, tokens) -> str:
    return jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks)).claims["sid"]


def _logout_with_hint(browser, issuer, hint, client=PORTAL, *, state="s"):
    """RP-initiated logout without an id_token: client_id, logout_hint (the sid), return URI."""
    return browser.get(issuer + "/logout", params={
        "client_id": client["client_id"], "logout_hint": hint, "state": state,
        "post_logout_redirect_uri": client["post_logout_redirect_uris"][0]},
        allow_redirects=False, timeout=TIMEOUT)


def _back_at_the_client_signed_out(browser, issuer, response, state) -> bool:
    return (response.status_code == 302 and not _still_signed_in(browser, issuer)
            and response.headers["Location"] == PORTAL["post_logout_redirect_uris"][0] + "?state=" + state)


def test_id_token_names_the_browser_session_by_a_random_sid(browser, sandbox):
    issuer, jwks = sandbox
    first = _sid(issuer, jwks, _signed_in_tokens(browser, issuer))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first)  # 256 random bits, nothing personal
    # single sign-on for another client: the same browser session, the same sid
    params, verifier = auth_params(OTHER)
    code = callback_params(browser.get(issuer + "/authorize", params=params, allow_redirects=False,
                                       timeout=TIMEOUT), OTHER)["code"]
    assert _sid(issuer, jwks, exchange(issuer, code, verifier, OTHER).json()) == first
    with _session() as other_browser:  # another browser, another session
        tokens = _signed_in_tokens(other_browser, issuer)
    assert _sid(issuer, jwks, tokens) != first
    assert "sid" not in userinfo(issuer, tokens["access_token"]).json()  # id_token only
    meta = browser.get(issuer + "/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert "sid" in meta["claims_supported"]


def test_logout_with_client_id_and_the_sid_as_hint_ends_the_session_at_once(browser, sandbox):
    issuer, jwks = sandbox
    sid = _sid(issuer, jwks, _signed_in_tokens(browser, issuer))
    response = _logout_with_hint(browser, issuer, sid, state="bye")
    assert _back_at_the_client_signed_out(browser, issuer, response, "bye")


def test_logout_hint_of_another_session_asks_first_then_returns(browser, sandbox):
    issuer, jwks = sandbox
    stale = _sid(issuer, jwks, _signed_in_tokens(browser, issuer))
    browser.cookies.clear()
    _signed_in_tokens(browser, issuer, "employer")  # signed in again at the platform: new sid
    for hint in (stale, "not-the-sid-at-all", ""):
        response = _logout_with_hint(browser, issuer, hint)
        assert response.status_code == 200 and "Location" not in response.headers
        page = parse(response.text)
        assert page.h1 == ["确认退出"]
        assert _still_signed_in(browser, issuer)
    hidden = {a["name"]: a.get("value", "") for a in page.find("input", type="hidden")}
    assert hidden["client_id"] == PORTAL["client_id"] and "id_token_hint" not in hidden
    response = browser.post(issuer + "/logout", data=hidden, allow_redirects=False, timeout=TIMEOUT)
    # confirmed by the person; the URI is registered for the client the request named
    assert _back_at_the_client_signed_out(browser, issuer, response, "s")


def test_logout_hint_never_redirects_to_a_uri_of_another_client(browser, sandbox):
    issuer, jwks = sandbox
    sid = _sid(issuer, jwks, _signed_in_tokens(browser, issuer))
    response = browser.get(issuer + "/logout", params={
        "client_id": OTHER["client_id"], "logout_hint": sid,
        "post_logout_redirect_uri": PORTAL["post_logout_redirect_uris"][0]},
        allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 200 and "Location" not in response.headers
    assert parse(response.text).h1 == ["已退出"]  # the hint named the session: it ended
    assert not _still_signed_in(browser, issuer)


def test_logout_with_client_id_when_already_signed_out_returns(browser, issuer):
    response = _logout_with_hint(browser, issuer, "a-session-that-ended-long-ago", state="x")
    assert _back_at_the_client_signed_out(browser, issuer, response, "x")


# -- configuration ------------------------------------------------------------------------------
def test_issuer_with_a_path_prefixes_every_endpoint(browser):
    server, thread, base = serve_built_in_thread(
        lambda base_url: create_sandbox_app(issuer=base_url + "/govid/", clients=[PORTAL]))
    try:
        issuer = base + "/govid"
        meta = _session().get(issuer + "/.well-known/openid-configuration", timeout=TIMEOUT).json()
        assert meta["issuer"] == issuer and meta["token_endpoint"] == issuer + "/token"
        code, verifier, _ = sign_in_for_code(browser, issuer, "worker")
        tokens = exchange(issuer, code, verifier)
        assert tokens.status_code == 200, tokens.text
        assert _session().get(base + "/.well-known/openid-configuration", timeout=TIMEOUT).status_code == 404
    finally:
        stop_server(server, thread)


def test_custom_accounts_file(tmp_path, browser):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[[accounts]]\nusername = "solo"\nsub = "np-9"\naccount_type = "natural"\nname = "测试"\n'
        'password = "secret"\n', encoding="utf-8")
    server, thread, issuer = serve_built_in_thread(
        lambda base_url: create_sandbox_app(issuer=base_url, clients=[PORTAL], accounts_file=accounts))
    try:
        assert submit_login(browser, issuer, auth_params()[0], "solo", "demo").status_code == 200
        code = callback_params(submit_login(browser, issuer, auth_params()[0], "solo", "secret"))["code"]
        assert code
    finally:
        stop_server(server, thread)


def test_invalid_accounts_file_is_refused(tmp_path):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[[accounts]]\nusername = "x"\nsub = "x"\naccount_type = "robot"\nname = "x"\n',
                        encoding="utf-8")
    with pytest.raises(ValueError, match="account_type"):
        create_sandbox_app(issuer="http://127.0.0.1:5100", clients=[PORTAL], accounts_file=accounts)


def test_unknown_page_is_a_chinese_404(issuer):
    response = _session().get(issuer + "/nope", timeout=TIMEOUT)
    assert response.status_code == 404 and "页面不存在" in response.text


def test_serve_in_thread_reports_the_bound_port():
    app = create_sandbox_app(issuer="http://127.0.0.1:5100", clients=[PORTAL])
    server, thread = serve_in_thread(app, "127.0.0.1", 0)
    try:
        assert server.server_port > 0 and thread.is_alive()
        response = _session().get(f"http://127.0.0.1:{server.server_port}/jwks.json", timeout=TIMEOUT)
        assert response.status_code == 200
    finally:
        stop_server(server, thread)
    assert not thread.is_alive()


# -- in a real browser: accessibility (axe-core, WCAG 2.1 AA) and the CSP-checked redirect --------
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def relying_party():
    """A real loopback callback endpoint, and a sandbox that has it registered as a client."""

    def callback(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"relying party"]

    rp_server, rp_thread = serve_in_thread(callback, "127.0.0.1", 0)
    rp = f"http://127.0.0.1:{rp_server.server_port}"
    client = {**PORTAL, "redirect_uris": [rp + "/auth/callback"], "post_logout_redirect_uris": [rp + "/signed-out"]}
    server, thread, issuer = serve_built_in_thread(
        lambda base_url: create_sandbox_app(issuer=base_url, clients=[client]))
    try:
        yield issuer, client
    finally:
        stop_server(server, thread)
        stop_server(rp_server, rp_thread)


def assert_no_axe_violations(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG_AA)
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in results.response["violations"]]
    assert violations == []


@pytest.mark.browser
def test_login_page_in_a_real_browser(page, relying_party):
    issuer, client = relying_party
    params, verifier = auth_params(client)
    page.goto(issuer + "/authorize?" + urlencode(params))
    assert_no_axe_violations(page)

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到主要内容"  # skip link first
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
    assert outline[0] != "none" and outline[1] >= 2

    page.get_by_label("用户名", exact=True).fill("worker")
    page.get_by_label("密码", exact=True).fill("wrong")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().strip() == "用户名或密码错误，请重新输入。"
    assert_no_axe_violations(page)

    page.get_by_label("密码", exact=True).fill("demo")
    with page.expect_navigation(url=client["redirect_uris"][0] + "?*"):
        page.get_by_role("button", name="登录").click()  # CSP form-action lets this redirect through
    returned = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert returned["state"] == params["state"]
    tokens = exchange(issuer, returned["code"], verifier, client).json()

    page.goto(issuer + "/logout")  # signed in, no id_token_hint: asks first
    assert page.get_by_role("heading", level=1).inner_text() == "确认退出"
    assert_no_axe_violations(page)
    page.get_by_role("button", name="退出登录").click()
    assert page.get_by_role("heading", level=1).inner_text() == "已退出"
    assert_no_axe_violations(page)

    page.goto(issuer + "/logout?" + urlencode({  # RP-initiated, with a valid hint: straight back
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": client["post_logout_redirect_uris"][0],
        "state": "bye"}))
    assert page.url == client["post_logout_redirect_uris"][0] + "?state=bye"
