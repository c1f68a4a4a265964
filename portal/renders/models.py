"""Background-rendered documents (后台生成的文件) and their progress."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.choices import LabelledEnum
from portal.db import Base, enum_column, utcnow
from portal.errors import ConflictError


class RenderStatus(LabelledEnum):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "正在生成"
    DONE = "done", "已生成"
    FAILED = "failed", "生成失败"

    @property
    def is_active(self) -> bool:
        return self in (RenderStatus.QUEUED, RenderStatus.RUNNING)


class IllegalRenderTransition(ConflictError):
    code = "illegal_render_transition"


class DocumentJob(Base):
    """One document a person asked for, rendered by the worker. Huey may deliver the task
    twice, so the task moves the row queued → running → done | failed and ignores finished rows."""

    __tablename__ = "document_job"
    __table_args__ = (Index("ix_document_job_document_key_status", "document_key", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the job's name in its URL: random, so one job's address reveals no other
    token: Mapped[str] = mapped_column(String(64), unique=True)
    #: what is rendered, e.g. ``benefits.estimate`` (待遇测算 PDF); picks the renderer
    kind: Mapped[str] = mapped_column(String(64))
    #: what decides the document's bytes (the document cache's key): equal keys, equal files
    document_key: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the secret in the requester's session: only that session may read the job
    owner: Mapped[str] = mapped_column(String(64), index=True)
    #: what the renderer needs (never personal data)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the name the download is offered under
    filename: Mapped[str] = mapped_column(String(120))
    status: Mapped[RenderStatus] = mapped_column(
        enum_column(RenderStatus), default=RenderStatus.QUEUED, server_default=RenderStatus.QUEUED.value)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now(), index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: last time the job was handed to the queue (the sweeper hands a lost one again)
    enqueued_at: Mapped[datetime | None]
    #: deliveries of the task so far (a retry or a redelivery after a dead worker adds one)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the rendered file, once done
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: why rendering failed (exception class and message), for the logs and staff
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    def is_held(self, now: datetime, lease: timedelta) -> bool:
        """Being rendered by a delivery whose lease has not run out (a worker that died leaves
        its job running; after the lease another delivery may take it)."""
        return (self.status is RenderStatus.RUNNING and self.started_at is not None
                and self.started_at > now - lease)

    def start(self, now: datetime) -> None:
        if not self.is_active:
            raise IllegalRenderTransition(f"文件生成任务已结束（{self.status.label}），不能再次开始")
        self.status = RenderStatus.RUNNING
        self.started_at = now
        self.attempts += 1

    def finish(self, now: datetime, content: bytes) -> None:
        if self.status is not RenderStatus.RUNNING:
            raise IllegalRenderTransition(f"文件生成任务不在生成中（{self.status.label}）")
        self.status = RenderStatus.DONE
        self.content = content
        self.error = None
        self.finished_at = now

    def fail(self, now: datetime, error: str, *, will_retry: bool) -> None:
        """A failed delivery: queued again when the task will be retried, failed otherwise."""
        if not self.is_active:
            raise IllegalRenderTransition(f"文件生成任务已结束（{self.status.label}）")
        self.error = error[:2000]
        if will_retry:
            self.status = RenderStatus.QUEUED
        else:
            self.status = RenderStatus.FAILED
            self.finished_at = now
