"""Runs of background jobs (任务运行记录) that staff asked for, with their outcome; the scheduler
lease (定时任务调度租约) that lets one worker of many enqueue the periodic tasks; and the
submission keys (提交键) that make a retried form POST answer again without writing twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.choices import LabelledEnum
from portal.db import Base, enum_column, utcnow
from portal.errors import ConflictError


class JobStatus(LabelledEnum):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "运行中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


class IllegalJobTransition(ConflictError):
    code = "illegal_job_transition"


class JobRun(Base):
    """One requested run of a task. Huey may deliver a task twice (retries), so the task moves
    the row through queued → running → succeeded | failed and ignores finished rows."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: task name, e.g. ``self_check`` (系统自检)
    task: Mapped[str] = mapped_column(String(64))
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus), default=JobStatus.QUEUED, server_default=JobStatus.QUEUED.value, index=True)
    #: account id of the staff member who asked for it; NULL for scheduled runs
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now(), index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: deliveries of the task so far (a retry or a redelivery after a crash adds one)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: what the task found (JSON object); never personal data
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: why the run failed (exception class and message), for staff
    error: Mapped[str | None] = mapped_column(Text)
    #: last time the run was handed to the queue; a run queued long before is re-enqueued by the
    #: sweeper (the message was lost: broker restarted, enqueue after commit failed)
    enqueued_at: Mapped[datetime | None]
    #: the worker (host:pid) running it, while running
    worker: Mapped[str | None] = mapped_column(String(120))
    #: while running: past this the worker is presumed dead and the sweeper queues the run again
    lease_expires_at: Mapped[datetime | None] = mapped_column(index=True)

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    def start(self, now: datetime, *, worker: str | None = None, lease_seconds: int = 300) -> None:
        """A delivery of the task begins (again, after a crash or a retry), held by ``worker``
        for ``lease_seconds``."""
        if not self.status.is_active:
            raise IllegalJobTransition(f"任务 #{self.id} 已结束（{self.status.label}），不能再次开始")
        self.status = JobStatus.RUNNING
        self.started_at = now
        self.attempts = (self.attempts or 0) + 1
        self.error = None
        self.worker = worker
        self.lease_expires_at = now + timedelta(seconds=lease_seconds)

    def is_held(self, now: datetime) -> bool:
        """Running under a lease that has not ended: another delivery must leave it alone."""
        return (self.status is JobStatus.RUNNING and self.lease_expires_at is not None
                and self.lease_expires_at > now)

    def succeed(self, now: datetime, result: dict[str, Any]) -> None:
        if self.status is not JobStatus.RUNNING:
            raise IllegalJobTransition(f"任务 #{self.id} 不在运行中（{self.status.label}），不能标记为完成")
        self.status = JobStatus.SUCCEEDED
        self.finished_at = now
        self.result = result
        self.lease_expires_at = None

    def fail(self, now: datetime, error: str) -> None:
        if not self.status.is_active:
            raise IllegalJobTransition(f"任务 #{self.id} 已结束（{self.status.label}），不能标记为失败")
        self.status = JobStatus.FAILED
        self.finished_at = now
        self.error = error[:2000]
        self.lease_expires_at = None

    def requeue(self, error: str) -> None:
        """The attempt failed and Huey will retry: back to the queue, the error kept for staff."""
        if self.status is not JobStatus.RUNNING:
            raise IllegalJobTransition(f"任务 #{self.id} 不在运行中（{self.status.label}），不能重新排队")
        self.status = JobStatus.QUEUED
        self.error = error[:2000]
        self.lease_expires_at = None
        self.worker = None


class SchedulerLease(Base):
    """定时任务调度租约: the one worker that enqueues periodic tasks, for ``expires_at``.

    Every worker runs a scheduler; each tick it tries to take or renew the lease, and only the
    holder enqueues. When the holder dies its lease runs out and the next worker's tick takes it.
    ``period_at`` is the last period (minute) whose periodic tasks were enqueued, so a worker that
    takes over within a minute already served does not enqueue that minute again."""

    __tablename__ = "scheduler_lease"

    #: what the lease is for, e.g. ``periodic``
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: the holder (host:pid:random)
    owner: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]
    #: the last period whose tasks the holders enqueued
    period_at: Mapped[datetime | None]


class SubmissionKey(Base):
    """提交键: one form submission (or API call with an ``Idempotency-Key``) that was carried out,
    written in the same transaction as what it wrote, with the answer to give again.

    A page hands out a fresh random key in each form; a POST that comes again with a key already
    here (the person pressed twice, the client retried after a lost answer or a dead node) gets
    the first answer back and writes nothing."""

    __tablename__ = "submission_key"

    #: SHA-256 of the key the client sent (hex); the key itself is not kept
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: who submitted it (account id; NULL for anonymous forms); another account's retry is refused
    account_id: Mapped[int | None] = mapped_column(Integer)
    #: the path posted to
    path: Mapped[str] = mapped_column(String(300))
    #: the first answer: status (303 …) and where it sent the person
    status_code: Mapped[int] = mapped_column(SmallInteger)
    location: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now(), index=True)
