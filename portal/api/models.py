"""Credentials of other agencies' systems calling the portal (接口调用方)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class ApiClient(Base):
    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: public identifier, e.g. "zj-340100" for the Hefei housing-construction bureau
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: 调用单位名称, e.g. 合肥市住房和城乡建设局
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the secret (secrets are 256-bit random, so no slow hash is needed)
    secret_hash: Mapped[str] = mapped_column(String(64))
    #: space-separated scopes, e.g. "project_cover:read"
    scopes: Mapped[str] = mapped_column(String(200))
    #: 地市代码 the caller belongs to; NULL = province-wide
    city_code: Mapped[str | None] = mapped_column(String(6))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
