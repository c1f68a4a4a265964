"""The one Huey instance every task is registered on; its broker is chosen from settings.

``queue_url`` (``PORTAL_QUEUE_URL``) picks the storage:

- ``sqlite:///path/queue.db``: an SQLite file (Huey's ``SqliteHuey`` storage), the embedded
  default. The consumer runs as ``portal worker`` on the same machine, or as threads inside
  ``portal demo``.
- ``redis://host:6379/0`` (``rediss://`` for TLS, ``redis://:password@host:6379/0``): Redis
  (``RedisHuey`` storage), for production. **A worker on another machine** joins the same queue
  by running ``portal worker`` with the same ``PORTAL_QUEUE_URL`` (pointing at the shared Redis,
  not ``localhost``) and the same ``PORTAL_DATABASE_URL`` and keys as the web servers: a task
  message carries only row ids, and the worker reads and writes the rows in the shared database.

``queue_immediate`` runs tasks inline in the calling process (in memory); tests only.

One module-level ``huey`` exists so ``@huey.task`` works at import time. Its storage is built
lazily (importing touches no file and opens no connection) from the settings in the environment,
and :func:`init_app` re-points it at an app's own settings: every app the factory builds binds
the queue to itself (through the ops blueprint), so tests and ``portal demo`` use their own queue
file, and tasks run against the database of the app that configured the queue.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from huey import Huey
from huey.consumer import Consumer, Scheduler
from huey.storage import BaseStorage, RedisStorage, SqliteStorage

from portal.config import ConfigError, load_settings

if TYPE_CHECKING:
    from flask import Flask

#: Queue name: the Redis key prefix / the SQLite ``queue`` column. Web and workers must agree.
QUEUE_NAME = "portal"
_SQLITE_PREFIX = "sqlite:///"


def backend_of(queue_url: str) -> str:
    """``"sqlite"`` or ``"redis"``; anything else is a configuration error."""
    scheme = urlsplit(queue_url).scheme
    if scheme == "sqlite" and queue_url.startswith(_SQLITE_PREFIX):
        return "sqlite"
    if scheme in ("redis", "rediss", "unix"):
        return "redis"
    raise ConfigError(
        f"PORTAL_QUEUE_URL 只支持 sqlite:///文件路径 或 redis://主机:端口/库号，实际为 {queue_url!r}")


def storage_for(queue_url: str, name: str = QUEUE_NAME) -> BaseStorage:
    """What ``SqliteHuey(filename=...)`` / ``RedisHuey(url=...)`` would build for ``queue_url``."""
    if backend_of(queue_url) == "sqlite":
        path = queue_url[len(_SQLITE_PREFIX):]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteStorage(name, filename=path, timeout=10)
    return RedisStorage(name, url=queue_url)


class _LazyStorage:
    """Builds the real storage on first use, so that importing the task modules is free."""

    def __init__(self, factory: Callable[[], BaseStorage]) -> None:
        self._factory = factory
        self._real: BaseStorage | None = None
        self._lock = threading.Lock()

    def _storage(self) -> BaseStorage:
        if self._real is None:
            with self._lock:
                if self._real is None:
                    self._real = self._factory()
        return self._real

    def __getattr__(self, name: str):
        return getattr(self._storage(), name)

    def close(self) -> bool:
        return self._real.close() if self._real is not None else False


class PortalHuey(Huey):
    """Huey whose broker comes from ``queue_url`` and can be re-pointed before consumers start.

    Periodic tasks go through ``periodic_gate`` (``portal.tasks.scheduler.SchedulerGate``, set by
    :func:`init_app`): with several workers only the lease holder enqueues them."""

    #: ``gate(timestamp) -> bool``; None lets every scheduler enqueue (a lone in-process consumer)
    periodic_gate: "Callable[[object], bool] | None" = None
    #: how often a scheduler looks for due periodic tasks (Huey's own is 60 s)
    periodic_tick_seconds: int = 60

    def __init__(self, queue_url: str, immediate: bool = False) -> None:
        backend_of(queue_url)
        self.queue_url = queue_url
        # Results are not kept in the broker: outcomes that matter are rows (ops.JobRun).
        super().__init__(QUEUE_NAME, results=False, utc=True, immediate=immediate)

    def get_storage(self, **kwargs) -> BaseStorage:
        url = self.queue_url
        return _LazyStorage(lambda: storage_for(url, self.name))  # type: ignore[return-value]

    @property
    def backend(self) -> str:
        return backend_of(self.queue_url)

    def read_periodic(self, timestamp):
        # asked every ``periodic_tick_seconds`` by the consumer's scheduler; the gate is asked
        # every tick (it renews the lease) even when nothing is due
        gate = self.periodic_gate
        if gate is not None and not gate(timestamp if timestamp is not None else self._get_timestamp()):
            return []
        return super().read_periodic(timestamp)

    def create_consumer(self, **options) -> Consumer:
        tick = max(1, int(self.periodic_tick_seconds))
        scheduler = type("PortalScheduler", (Scheduler,), {"periodic_task_seconds": tick})
        consumer_class = type("PortalConsumer", (Consumer,), {"scheduler_class": scheduler})
        return consumer_class(self, **options)

    def configure(self, queue_url: str, immediate: bool) -> None:
        """Point at another broker (call before starting consumers, not while they run)."""
        backend_of(queue_url)
        if queue_url == self.queue_url and immediate == self._immediate:
            return
        old = self.storage
        self.queue_url = queue_url
        self._immediate = immediate
        self.storage = self.create_storage()
        old.close()


def _initial_huey() -> PortalHuey:
    settings = load_settings()
    return PortalHuey(settings.queue_url, immediate=bool(settings.queue_immediate))


huey = _initial_huey()

_bound_app: "Flask | None" = None


#: The modules whose tasks run on the queue, each task declared with ``@huey.task`` or
#: ``@huey.periodic_task``; :func:`register_tasks` loads them (web, worker and demo alike).
TASK_MODULES = ("portal.tasks.jobs", "portal.tasks.outbox", "portal.tasks.payments")


def register_tasks() -> None:
    from importlib import import_module

    for name in TASK_MODULES:
        import_module(name)


def init_app(app: "Flask") -> None:
    """Point the queue at ``app``'s settings and register the tasks; tasks in this process will
    use ``app``'s database."""
    global _bound_app
    from portal.tasks.scheduler import SchedulerGate

    register_tasks()
    settings = app.config["PORTAL_SETTINGS"]
    huey.configure(settings.queue_url, bool(settings.queue_immediate))
    huey.periodic_gate = SchedulerGate(app)
    huey.periodic_tick_seconds = int(settings.scheduler_tick_seconds)
    app.extensions["portal.queue"] = huey
    _bound_app = app


def bound_app() -> "Flask | None":
    return _bound_app


def start_consumer(workers: int = 2, *, periodic: bool = True, max_delay: float = 1.0) -> Consumer:
    """Start a consumer on threads of this process (``portal demo``, tests).

    ``consumer.start()``, not ``run()``: ``run()`` blocks and owns the process's signals. Huey's
    consumer would install its SIGINT/SIGTERM/SIGHUP handlers in ``start()``; here the host
    process keeps its own (Ctrl-C stops the demo, not just the queue). Stop with
    :func:`stop_consumer`.
    """
    if huey.immediate:
        raise ConfigError("queue_immediate 已开启：任务在请求内直接执行，不能启动任务消费者")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic,
                                    initial_delay=0.05, max_delay=max_delay,
                                    check_worker_health=False)
    consumer._set_signal_handlers = lambda: None  # type: ignore[method-assign]
    consumer.start()
    return consumer


def stop_consumer(consumer: Consumer, timeout: float = 10.0) -> None:
    """Let running tasks finish (up to ``timeout`` seconds), then stop the threads."""
    consumer.shutdown_timeout = timeout
    consumer.stop(graceful=True)
