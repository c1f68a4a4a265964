"""The same job path on RedisHuey (production's broker): a consumer on 127.0.0.1:6379."""

import pytest

from portal.tasks import queue
from tests.ops.jobpath import self_check_end_to_end


@pytest.fixture
def app_overrides(redis_url):
    return {"queue_url": redis_url}


@pytest.fixture(autouse=True)
def _empty_redis_queue(app):
    # Leftovers of an interrupted run would point at rows of another database.
    queue.huey.flush()
    yield
    queue.huey.flush()


def test_self_check_end_to_end_with_redis_queue(app, client, login_as, consumer):
    assert app.extensions["portal.queue"].backend == "redis"
    self_check_end_to_end(app, client, login_as, queue_backend="redis")


def test_healthz_names_the_redis_queue(client):
    assert client.get("/healthz").get_json()["queue"] == {"backend": "redis"}
