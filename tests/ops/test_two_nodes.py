"""Past one machine: two nodes (``portal serve`` + ``portal worker`` each, real subprocesses) on one
PostgreSQL and one Redis behind a round-robin proxy on loopback (``benchmarks.nodes.cluster``).

Sessions, CSRF tokens and rate limits hold across nodes; a job asked for through one node runs on
some worker; killing the node whose worker holds the scheduler lease in the middle of a load of
retried POSTs loses no write (each submission written once, thanks to its submission key), no job
(the sweeper re-queues what the dead worker held) and enqueues the periodic tasks once per minute.

PostgreSQL and Redis are required (CI has both): without them this test fails, it is not skipped.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa

from adapters.gov_platform.sandbox import create_sandbox_app
from adapters.sandbox_server import serve_built_in_thread, stop_server
from benchmarks.databases import redis_answers
from benchmarks.nodes import cluster, free_port
from portal.db import Database
from portal.demo import load_staff_register
from tests.auth.flow import sign_in
from tests.conftest import _postgres_base_url, _with_search_path
from tests.ops.conftest import (
    LOCAL_REDIS,
    REDIS_ENV,
    csrf_token,
    wait_for,
)

#: a Redis database of its own (flushed before and after), apart from the other Redis tests' 15
REDIS_DB = 11
SUBMISSIONS = 24
SELF_CHECKS = 8
PROJECT = {"name": "合肥市滨湖新区安置房项目", "county_code": "340111", "contract_price": "1,000,000.00",
           "installation_cost": "", "permit_number": "", "planned_start": "2026-01-01",
           "planned_end": "2027-12-31"}


@pytest.fixture(scope="module")
def shared_redis():
    url = os.environ.get(REDIS_ENV) or LOCAL_REDIS
    if not redis_answers(url):
        pytest.fail(f"two nodes need Redis: set {REDIS_ENV} or run redis on 127.0.0.1:6379 ({url} does not answer)")
    import redis

    url = re.sub(r"/\d+$", "", url.rstrip("/")) + f"/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def shared_postgres():
    base = _postgres_base_url()
    if base is None:
        pytest.fail("two nodes need PostgreSQL: set PORTAL_TEST_POSTGRES_URL or run it on 127.0.0.1:5432")
    schema = f"portal_nodes_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def two_nodes(shared_postgres, shared_redis, tmp_path_factory):
    proxy_port = free_port()
    portal_url = f"http://127.0.0.1:{proxy_port}"

    def build_sandbox(issuer):
        return create_sandbox_app(issuer=issuer, key_dir=tmp_path_factory.mktemp("sandbox-keys"), testing=True,
                                  clients=[{"client_id": "wanggong-portal", "client_secret": "dev-oidc-client-secret",
                                            "redirect_uris": [f"{portal_url}/auth/callback"],
                                            "post_logout_redirect_uris": [f"{portal_url}/"]}])

    server, thread, sandbox_url = serve_built_in_thread(build_sandbox)
    env = {"PORTAL_OIDC_ISSUER": sandbox_url, "PORTAL_OIDC_REDIRECT_URI": f"{portal_url}/auth/callback",
           "PORTAL_GOV_PLATFORM_URL": sandbox_url, "PORTAL_RATELIMIT_LOGIN": "10 per minute",
           # seconds instead of minutes, so a dead worker's job and lease come back within the test
           "PORTAL_SCHEDULER_TICK_SECONDS": "1", "PORTAL_SCHEDULER_LEASE_SECONDS": "3",
           "PORTAL_JOB_LEASE_SECONDS": "4", "PORTAL_JOB_REQUEUE_AFTER_SECONDS": "5"}
    try:
        with cluster(2, database_url=shared_postgres, queue_url=shared_redis, ratelimit_url=shared_redis,
                     env=env, threads=4, proxy_port=proxy_port) as running:
            running.sandbox_url = sandbox_url
            running.engine = sa.create_engine(shared_postgres)
            staff = Database(shared_postgres)
            try:
                with staff.write_transaction() as sess:  # the staff register, as `portal demo` loads it
                    load_staff_register(sess)
            finally:
                staff.dispose()
            try:
                yield running
            finally:
                running.engine.dispose()
    finally:
        stop_server(server, thread)


def _signed_in(c, username: str) -> requests.Session:
    http = requests.Session()
    done = sign_in(http, SimpleNamespace(portal_url=c.url, sandbox_url=c.sandbox_url), username)
    assert done.status_code == 200 and done.url.startswith(c.url), (done.status_code, done.url)
    return http


def _scalar(c, sql: str, **params):
    with c.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _post_until_answered(http: requests.Session, url: str, data: dict, *, attempts: int = 40) -> requests.Response:
    """A client that retries a POST (same data, same submission key) until it gets an answer: on a
    lost connection (its node died), a 5xx, or a 409 "try again" (two concurrent enrolments drew
    the same project number; the refused one wrote nothing, its key included)."""
    for _ in range(attempts):
        try:
            response = http.post(url, data=data, allow_redirects=False, timeout=10)
        except requests.RequestException:
            time.sleep(0.1)
            continue
        if response.status_code < 500 and response.status_code != 409:
            return response
        time.sleep(0.1)
    raise AssertionError(f"no answer to POST {url} after {attempts} tries")


def test_two_nodes_share_sessions_limits_jobs_and_survive_a_dead_node(two_nodes):
    c = two_nodes
    node_a, node_b = c.nodes

    # --- sessions and CSRF: signed in through the proxy, the session works on either node, and
    # a form's token from one node is accepted by the other
    employer = _signed_in(c, "employer")
    pages = [employer.get(f"{node.url}/projects/new", timeout=10) for node in (node_a, node_b)]
    assert [p.status_code for p in pages] == [200, 200] and all("登记新项目" in p.text for p in pages)
    created = employer.post(f"{node_b.url}/projects/new", allow_redirects=False, timeout=10,
                            data={"csrf_token": csrf_token(pages[0].text), **PROJECT,
                                  "submission_key": re.search(r'name="submission_key" value="([^"]+)"',
                                                              pages[0].text).group(1)})
    assert created.status_code == 303, created.text[:500]

    # --- a background job asked for through node A runs on some worker
    province = _signed_in(c, "province")
    page = province.get(f"{node_a.url}/ops/self-check", timeout=10)
    asked = province.post(f"{node_a.url}/ops/self-check", allow_redirects=False, timeout=10,
                          data={"csrf_token": csrf_token(page.text), "submission_key": secrets.token_urlsafe(18)})
    assert asked.status_code == 303
    wait_for(lambda: _scalar(c, "select count(*) from job_run where status = 'succeeded'") == 1,
             timeout=20, what="the self-check to run on a worker")
    worker_pids = {str(node.worker.pid) for node in c.nodes}
    ran_on = _scalar(c, "select result from job_run")["worker"]["pid"]
    assert str(ran_on) in worker_pids

    # --- a rate limit is counted across nodes (Redis): 10 logins a minute in all, not per node
    answers = []
    for hit in range(12):
        node = c.nodes[hit % 2]
        answers.append(requests.get(f"{node.url}/login", allow_redirects=False, timeout=10).status_code)
    assert 429 in answers, answers
    assert answers.index(429) <= 10, answers  # 2 sign-ins + 8 more; per-node counters would allow 20

    # --- the scheduler lease: one worker holds it
    owner = wait_for(lambda: _scalar(c, "select owner from scheduler_lease where name = 'periodic'"),
                     timeout=10, what="a scheduler lease holder")
    holder = next(i for i, node in enumerate(c.nodes) if f":{node.worker.pid}:" in owner)
    survivor = c.nodes[1 - holder]

    # --- load: POSTs retried until answered, through the proxy; the lease holder's node dies mid-way
    keys = [secrets.token_urlsafe(18) for _ in range(SUBMISSIONS)]
    token = csrf_token(employer.get(f"{c.url}/projects/new", timeout=10).text)
    province_token = csrf_token(province.get(f"{c.url}/ops/self-check", timeout=10).text)
    done = Counter()
    lock = threading.Lock()
    locations: dict[int, str] = {}

    def submit(i: int) -> None:
        # each client its own connection pool (the cookie jar copied), like separate browsers
        http = requests.Session()
        http.cookies.update(employer.cookies)
        answer = _post_until_answered(http, f"{c.url}/projects/new",
                                      {"csrf_token": token, "submission_key": keys[i], **PROJECT,
                                       "name": f"并发项目{i:03d}"})
        assert answer.status_code == 303, answer.status_code
        locations[i] = answer.headers["Location"]
        if i % 3 == 0:  # a third of them ask for a job too
            checker = requests.Session()
            checker.cookies.update(province.cookies)
            asked = _post_until_answered(checker, f"{c.url}/ops/self-check",
                                         {"csrf_token": province_token, "submission_key": keys[i][::-1]})
            assert asked.status_code == 303
        with lock:
            done["answered"] += 1

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(submit, i) for i in range(SUBMISSIONS)]
        wait_for(lambda: done["answered"] >= SUBMISSIONS // 3, timeout=30, what="a third of the load")
        c.kill(holder)
        for future in futures:
            future.result(timeout=60)

    # every submission written exactly once, whatever node answered and however often retried
    names = {f"并发项目{i:03d}" for i in range(SUBMISSIONS)}
    with c.engine.connect() as conn:
        counts = dict(conn.execute(sa.text("select name, count(*) from project where name like '并发项目%' "
                                           "group by name")).all())
    assert set(counts) == names and set(counts.values()) == {1}, counts
    # a client that never saw its answer sends the same submission again, to the other node:
    # the first answer comes back and nothing is written
    for i in range(3):
        again = _post_until_answered(employer, f"{survivor.url}/projects/new",
                                     {"csrf_token": token, "submission_key": keys[i], **PROJECT,
                                      "name": f"并发项目{i:03d}"})
        assert (again.status_code, again.headers["Location"]) == (303, locations[i])
    assert _scalar(c, "select count(*) from project where name like '并发项目%'") == SUBMISSIONS
    asked_jobs = len(range(0, SUBMISSIONS, 3))

    # no job lost: every run finishes, also the ones the dead worker held or had taken off the
    # queue (the sweeper queues them again on the surviving worker)
    def all_finished():
        with c.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("select status, count(*) from job_run group by status")).all())
        return rows if set(rows) == {"succeeded"} else None

    finished = wait_for(all_finished, timeout=30, what="every self-check run to finish after the node died")
    assert finished["succeeded"] >= 1 + asked_jobs

    # the survivor took the scheduler lease over, and each minute's periodic tasks were
    # enqueued once across both workers
    wait_for(lambda: f":{survivor.worker.pid}:" in (_scalar(c, "select owner from scheduler_lease") or ""),
             timeout=15, what="the surviving worker to take the scheduler lease")
    enqueued = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d):\d\d,\d+ INFO huey\.consumer\.Scheduler: Enqueueing periodic "
                          r"task portal\.tasks\.outbox\.outbox_dispatch", c.worker_logs(), re.M)
    assert enqueued, "no periodic task was enqueued"
    per_minute = Counter(enqueued)
    assert set(per_minute.values()) == {1}, per_minute
