"""收件箱 (inbox): one per person (worker or relative) and one per employer.

A message is written once by :func:`portal.inbox.service.deliver` and afterwards changes only in
two places: the first time its recipient opens it (``read_at``) and when the action it asks for
has been done (``action_done_at``). Its delivery time is the 送达 time that recognition shows for
a decision.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    false,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.choices import LabelledEnum
from portal.db import Base, enum_column, utcnow


class InboxKind(LabelledEnum):
    NOTICE = "notice", "通知"
    REQUEST = "request", "补正/待办"  #: request for material or another step by the recipient
    DECISION = "decision", "决定文书"  #: 受理决定书, 认定工伤决定书 …
    MESSAGE = "message", "留言/答复"  #: e.g. the written answer to a 催办
    EVALUATION = "evaluation", "评价邀请"  #: 好差评 of the provincial platform


class InboxMessage(Base):
    """One message in one inbox: either a person's (``recipient_person_id``) or an employer's
    (``recipient_organisation_id``), never both.

    ``subject`` and ``body`` are plain text shown to the recipient (escaped, line breaks kept).
    They must not carry ID numbers, phone numbers or medical details beyond what a decision
    states: the sender writes them (``deliver`` refuses a valid resident ID number as a last
    guard), and an employer's inbox never receives a worker's medical details.
    """

    __tablename__ = "inbox_message"
    __table_args__ = (
        CheckConstraint(
            "(recipient_person_id IS NULL) <> (recipient_organisation_id IS NULL)", name="one_recipient"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 收件人（个人：职工或近亲属）
    recipient_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    #: 收件单位（用人单位）
    recipient_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: 类型：通知 / 补正待办 / 决定文书 / 留言答复 / 评价邀请
    kind: Mapped[InboxKind] = mapped_column(enum_column(InboxKind))
    #: 标题
    subject: Mapped[str] = mapped_column(String(200))
    #: 正文（纯文本；不得含身份证号码等个人敏感信息）
    body: Mapped[str] = mapped_column(Text)
    #: 链接：站内路径（以单个 / 开头）或 http(s) 外部地址（如好差评）
    link: Mapped[str | None] = mapped_column(String(300))
    #: 链接文字
    link_label: Mapped[str | None] = mapped_column(String(100))
    #: 案件编号（如工伤认定申请编号），用于分组和筛选
    case_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    #: 附件（portal.materials 的文件令牌）
    attachment_token: Mapped[str | None] = mapped_column(String(64))
    #: 是否需要收件人处理（待办）
    action_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: 待办完成时间
    action_done_at: Mapped[datetime | None] = mapped_column()
    #: 去重键：同一键只送达一次
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    #: 送达时间
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    #: 首次阅读时间
    read_at: Mapped[datetime | None] = mapped_column()

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def needs_action(self) -> bool:
        """待办: the recipient still has to do something."""
        return self.action_required and self.action_done_at is None

    @property
    def link_is_external(self) -> bool:
        return bool(self.link) and not self.link.startswith("/")

    @property
    def link_host(self) -> str | None:
        """The host an external link leads to, shown beside it."""
        return urlsplit(self.link).hostname if self.link_is_external else None


#: the inbox's order (``inbox.service``): 待办 not yet done, then unread, then newest. The first two
#: keys are SQL text that reads the same on SQLite (3.23+: ``IS TRUE``) and PostgreSQL, written as
#: PostgreSQL prints it back, so the index below, the list's ORDER BY and the migration are one
#: expression (the planner matches them) and the models-versus-migrations check can compare it.
OUTSTANDING_FIRST = literal_column(
    "(\nCASE\n    WHEN action_required IS TRUE AND action_done_at IS NULL THEN 0\n    ELSE 1\nEND)")
UNREAD_FIRST = literal_column("(\nCASE\n    WHEN read_at IS NULL THEN 0\n    ELSE 1\nEND)")
INBOX_ORDER = (OUTSTANDING_FIRST, UNREAD_FIRST, InboxMessage.delivered_at.desc(), InboxMessage.id.desc())

# each recipient's messages in that order, so a page reads its 20 rows however full the inbox
Index("ix_inbox_message_organisation_order", InboxMessage.recipient_organisation_id, *INBOX_ORDER)
Index("ix_inbox_message_person_order", InboxMessage.recipient_person_id, *INBOX_ORDER)
