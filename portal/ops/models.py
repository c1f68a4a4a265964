"""Runs of background jobs (任务运行记录) that staff asked for, with their outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, func
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

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    def start(self, now: datetime) -> None:
        """A delivery of the task begins (again, after a crash or a retry)."""
        if not self.status.is_active:
            raise IllegalJobTransition(f"任务 #{self.id} 已结束（{self.status.label}），不能再次开始")
        self.status = JobStatus.RUNNING
        self.started_at = now
        self.attempts = (self.attempts or 0) + 1
        self.error = None

    def succeed(self, now: datetime, result: dict[str, Any]) -> None:
        if self.status is not JobStatus.RUNNING:
            raise IllegalJobTransition(f"任务 #{self.id} 不在运行中（{self.status.label}），不能标记为完成")
        self.status = JobStatus.SUCCEEDED
        self.finished_at = now
        self.result = result

    def fail(self, now: datetime, error: str) -> None:
        if not self.status.is_active:
            raise IllegalJobTransition(f"任务 #{self.id} 已结束（{self.status.label}），不能标记为失败")
        self.status = JobStatus.FAILED
        self.finished_at = now
        self.error = error[:2000]

    def requeue(self, error: str) -> None:
        """The attempt failed and Huey will retry: back to the queue, the error kept for staff."""
        if self.status is not JobStatus.RUNNING:
            raise IllegalJobTransition(f"任务 #{self.id} 不在运行中（{self.status.label}），不能重新排队")
        self.status = JobStatus.QUEUED
        self.error = error[:2000]
