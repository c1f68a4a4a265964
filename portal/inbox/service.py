"""收件箱 (inbox): delivering messages to a person or an employer, and reading them.

How another area (recognition, the outbox) uses this module
------------------------------------------------------------
Deliver in the same transaction as the change the message is about::

    from portal.inbox import service as inbox
    inbox.deliver(sess, person_id=case.applicant_person_id, kind="request",
                  subject="请补正工伤认定申请材料", body="……",
                  link=f"/recognition/cases/{case.id}", link_label="查看并补正材料",
                  case_reference=case.reference, action_required=True,
                  dedupe_key=f"recognition:{case.id}:supplement:1:person")

- Exactly one recipient: ``person_id`` (a worker or a relative) or ``organisation_id`` (an
  employer). An employer's inbox is read by every delegate of the organisation.
- ``subject`` and ``body`` are plain text (shown escaped, line breaks kept). They must NOT contain
  ID numbers, phone numbers, bank accounts, or (for an employer) medical details beyond what a
  decision states; the caller is responsible. As a last guard ``deliver`` refuses any text that
  holds a valid resident ID number.
- ``link``: an internal path starting with a single ``/`` or an absolute ``http(s)://`` URL
  (the provincial platform's 好差评 page); anything else (``javascript:``, ``//host``) is refused.
- ``attachment_token``: a ``portal.materials`` file token; the inbox only stores and links it.
- ``dedupe_key`` makes delivery idempotent: delivering again with the same key returns the
  message already there (also when two transactions race; a savepoint catches the loser's
  unique violation). Use a key per recipient and event, e.g. ``recognition:12:decision:person``.
- When the recipient has done what a request asked (supplied the material), call
  ``complete_actions(sess, case_reference=..., kind="request")``.
- ``delivery_record(sess, dedupe_key=...)`` returns the message, whose ``delivered_at`` is the
  送达 time and ``read_at`` the first reading (both UTC), for the case page of a decision.

Nothing here commits: the caller's unit of work does.

Other areas use this module only (the models for their queries aside).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Select, and_, bindparam, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts import service as accounts
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import utcnow, will_write
from portal.errors import ConflictError, NotFoundError, UserInputError
from portal.inbox.models import INBOX_ORDER, InboxKind, InboxMessage
from portal.paging import Paged, capped_count, page_count

__all__ = [
    "PER_PAGE", "SHOW_ACTION", "SHOW_ALL", "SHOW_CHOICES", "SHOW_UNREAD", "InboxKind", "InboxPage",
    "complete_actions", "counts_for", "deliver", "delivery_record", "get_message", "in_inbox_of",
    "messages_for", "messages_query", "open_message", "validate_link",
]

PER_PAGE = 20

#: the list filters of the inbox page: 全部 / 待办 / 未读
SHOW_ALL, SHOW_ACTION, SHOW_UNREAD = "all", "action", "unread"
SHOW_CHOICES = (SHOW_ALL, SHOW_ACTION, SHOW_UNREAD)

#: an 18-character number, or a 15-digit first-generation one (checked for real afterwards)
_ID_NUMBER_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")
_SUBJECT_MAX, _LINK_MAX, _LABEL_MAX, _REFERENCE_MAX, _TOKEN_MAX, _KEY_MAX = 200, 300, 100, 40, 64, 120


# --- delivering -----------------------------------------------------------------------------------


def deliver(
    sess: Session,
    *,
    person_id: int | None = None,
    organisation_id: int | None = None,
    kind: str,
    subject: str,
    body: str,
    link: str | None = None,
    link_label: str | None = None,
    case_reference: str | None = None,
    attachment_token: str | None = None,
    action_required: bool = False,
    dedupe_key: str | None = None,
) -> InboxMessage:
    """Put one message into one inbox (送达) and return it; idempotent on ``dedupe_key``."""
    if (person_id is None) == (organisation_id is None):
        raise UserInputError("消息须有且只有一个收件人（个人或用人单位）", code="inbox_recipient")
    message_kind = _kind(kind)
    subject = _text(subject, "消息标题", _SUBJECT_MAX)
    body = (body or "").strip()
    if not body:
        raise UserInputError("请填写消息正文", code="inbox_body")
    for text in (subject, body):
        _refuse_id_numbers(text)
    link = validate_link(link)
    link_label = _optional(link_label, "链接文字", _LABEL_MAX) if link else None
    case_reference = _optional(case_reference, "案件编号", _REFERENCE_MAX)
    attachment_token = _optional(attachment_token, "附件", _TOKEN_MAX)
    dedupe_key = _optional(dedupe_key, "去重键", _KEY_MAX)

    if dedupe_key is not None:
        existing = delivery_record(sess, dedupe_key=dedupe_key)
        if existing is not None:
            return _same_recipient(existing, person_id, organisation_id)
    message = InboxMessage(
        recipient_person_id=person_id, recipient_organisation_id=organisation_id, kind=message_kind,
        subject=subject, body=body, link=link, link_label=link_label or ("查看" if link else None),
        case_reference=case_reference, attachment_token=attachment_token,
        action_required=bool(action_required), dedupe_key=dedupe_key, delivered_at=utcnow())
    try:
        # A savepoint: losing a race on the unique dedupe key must not end the caller's transaction.
        with sess.begin_nested():
            sess.add(message)
            sess.flush()
    except IntegrityError:
        if dedupe_key is None:
            raise
        existing = delivery_record(sess, dedupe_key=dedupe_key)
        if existing is None:  # not a lost race (e.g. an unknown recipient): a bug of the caller
            raise
        return _same_recipient(existing, person_id, organisation_id)
    return message


def validate_link(link: str | None) -> str | None:
    """An internal path (``/recognition/cases/12``) or an absolute http(s) URL; else refused.

    ``//host/x`` is a protocol-relative URL to another site and ``javascript:``/``data:`` run
    code, so neither passes. Control characters and spaces are refused too.
    """
    if link is None or not link.strip():
        return None
    link = link.strip()
    if len(link) > _LINK_MAX:
        raise UserInputError(f"链接不能超过{_LINK_MAX}个字符", code="inbox_bad_link")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in link) or "\\" in link:
        raise UserInputError("链接格式不正确", code="inbox_bad_link")
    if link.startswith("/"):
        if link.startswith("//"):
            raise UserInputError("站内链接须以单个“/”开头", code="inbox_bad_link")
        return link
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UserInputError("链接须为站内路径或 http(s) 网址", code="inbox_bad_link")
    if parts.username is not None or parts.password is not None:  # https://gov.cn@evil.example/
        raise UserInputError("链接不能包含用户名或密码", code="inbox_bad_link")
    return link


def complete_actions(sess: Session, *, case_reference: str, kind: str | None = None) -> int:
    """Mark the outstanding 待办 of a case as done (e.g. the applicant supplied the material);
    returns how many messages changed. Messages already done keep their first completion time."""
    conditions = [InboxMessage.case_reference == case_reference, InboxMessage.action_required.is_(True),
                  InboxMessage.action_done_at.is_(None)]
    if kind is not None:
        conditions.append(InboxMessage.kind == _kind(kind))
    result = sess.execute(update(InboxMessage).where(*conditions).values(action_done_at=utcnow())
                          .execution_options(synchronize_session="fetch"))
    sess.flush()
    return result.rowcount or 0


def delivery_record(sess: Session, *, dedupe_key: str) -> InboxMessage | None:
    """The message delivered under ``dedupe_key`` (``delivered_at`` = 送达, ``read_at`` = first
    reading), or None when nothing was delivered under it."""
    return sess.execute(select(InboxMessage).where(InboxMessage.dedupe_key == dedupe_key)).scalar_one_or_none()


# --- reading --------------------------------------------------------------------------------------


@dataclass
class InboxPage(Paged):
    items: list[InboxMessage]
    total: int
    page: int
    per_page: int
    show: str = SHOW_ALL
    case_reference: str | None = None
    total_is_capped: bool = False


def messages_for(sess: Session, actor: Actor, *, page: int = 1, per_page: int = PER_PAGE,
                 case_reference: str | None = None, show: str = SHOW_ALL) -> InboxPage:
    """The actor's own inbox: 待办 not yet done first, then unread, then newest.

    ``show``: ``all`` (全部), ``action`` (待办: action required, not done) or ``unread`` (未读).
    """
    if show not in SHOW_CHOICES:
        raise UserInputError("筛选条件不正确", code="inbox_bad_filter")
    per_page = max(1, min(per_page, 100))
    conditions = _message_conditions(actor, case_reference=case_reference, show=show)
    if conditions is None:
        return InboxPage([], 0, 1, per_page, show, case_reference)
    total, capped = capped_count(sess, select(InboxMessage.id).where(*conditions))
    pages = page_count(total, per_page)
    page = min(max(1, page), pages)
    rows = sess.execute(_ordered(select(InboxMessage).where(*conditions))
                        .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return InboxPage(list(rows), total, page, per_page, show, case_reference, capped)


def messages_query(actor: Actor, *, case_reference: str | None = None, show: str = SHOW_ALL) -> Select | None:
    """The inbox list's query for the actor (None for staff, who have no inbox), in its order:
    the recipient's index narrows it to their own messages before they are sorted."""
    conditions = _message_conditions(actor, case_reference=case_reference, show=show)
    return None if conditions is None else _ordered(select(InboxMessage).where(*conditions))


def _message_conditions(actor: Actor, *, case_reference: str | None, show: str) -> list | None:
    owner = _owner_condition(actor)
    if owner is None:
        return None
    conditions = [owner]
    if case_reference:
        conditions.append(InboxMessage.case_reference == case_reference)
    if show == SHOW_ACTION:
        conditions.append(_outstanding())
    elif show == SHOW_UNREAD:
        conditions.append(InboxMessage.read_at.is_(None))
    return conditions


def _ordered(query: Select) -> Select:
    """The inbox's order, the same expressions as the recipient's index
    (``ix_inbox_message_*_order``), which gives it without sorting."""
    return query.order_by(*INBOX_ORDER)


def get_message(sess: Session, actor: Actor, message_id: int) -> InboxMessage:
    """A message of the actor's own inbox; anything else (another's, missing) is not found."""
    message = sess.get(InboxMessage, message_id)
    if message is None or not in_inbox_of(actor, message):
        raise NotFoundError("没有找到这条消息", code="inbox_message_not_found")
    return message


def open_message(sess: Session, actor: Actor, message_id: int) -> InboxMessage:
    """Show one message to its recipient: the first opening sets ``read_at`` (首次阅读时间, kept
    as evidence of service); every opening is audited (``inbox.read``).

    Opening is a read that writes: a unit of work not yet begun is started as a writer."""
    if not sess.in_transaction():
        will_write(sess)
    message = get_message(sess, actor, message_id)
    first = False
    if message.read_at is None:
        # Conditional, so that of two simultaneous openings only one is the first reading.
        first = bool(sess.execute(
            update(InboxMessage).where(InboxMessage.id == message.id, InboxMessage.read_at.is_(None))
            .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount)
        sess.refresh(message, ["read_at"])
    audit.record(sess, actor, "inbox.read", object_type="inbox_message", object_id=message.id,
                 detail={"kind": message.kind.value, "first_read": first,
                         **({"case_reference": message.case_reference} if message.case_reference else {})})
    sess.flush()
    return message


def counts_for(sess: Session, actor: Actor) -> tuple[int, int]:
    """(unread, action required and not done) of the actor's inbox, each counted up to
    ``BADGE_CAP + 1`` (shown as "99+"); (0, 0) for staff. One statement, built once."""
    if actor.role is Role.WORKER and actor.person_id is not None:
        query, owner = _COUNTS_OF_PERSON, actor.person_id
    elif actor.role is Role.EMPLOYER and actor.organisation_id is not None:
        query, owner = _COUNTS_OF_ORGANISATION, actor.organisation_id
    else:
        return 0, 0
    unread, outstanding = sess.execute(query, {"owner": owner}).one()
    return int(unread or 0), int(outstanding or 0)


#: the badges count at most this many and then say "99+": the count stays cheap however many
#: messages a recipient has
BADGE_CAP = 99


def _capped_count(owner_column, condition):
    found = (select(literal(1)).where(owner_column == bindparam("owner"), condition)
             .limit(BADGE_CAP + 1).subquery())
    return select(func.count()).select_from(found).scalar_subquery()


def _counts_query(owner_column) -> Select:
    return select(_capped_count(owner_column, InboxMessage.read_at.is_(None)),
                  _capped_count(owner_column, _outstanding()))


def in_inbox_of(actor: Actor, message: InboxMessage) -> bool:
    if message.recipient_person_id is not None:
        return actor.owns_person(message.recipient_person_id)
    return actor.owns_organisation(message.recipient_organisation_id)


# --- helpers --------------------------------------------------------------------------------------


def _owner_condition(actor: Actor):
    # Guard against None: "recipient_person_id == None" would become IS NULL, i.e. every
    # employer's messages.
    if actor.role is Role.WORKER and actor.person_id is not None:
        return InboxMessage.recipient_person_id == actor.person_id
    if actor.role is Role.EMPLOYER and actor.organisation_id is not None:
        return InboxMessage.recipient_organisation_id == actor.organisation_id
    return None


def _outstanding():
    return and_(InboxMessage.action_required.is_(True), InboxMessage.action_done_at.is_(None))


#: :func:`counts_for`'s statements (the owner guard of :func:`_owner_condition`, by role)
_COUNTS_OF_PERSON = _counts_query(InboxMessage.recipient_person_id)
_COUNTS_OF_ORGANISATION = _counts_query(InboxMessage.recipient_organisation_id)


def _kind(kind: str | InboxKind) -> InboxKind:
    try:
        return InboxKind(kind)
    except ValueError:
        raise UserInputError(f"未知的消息类型：{kind}", code="inbox_kind") from None


def _text(value: str | None, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise UserInputError(f"请填写{what}", code="inbox_field")
    if len(value) > limit:
        raise UserInputError(f"{what}不能超过{limit}个字符", code="inbox_field")
    return value


def _optional(value: str | None, what: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    return _text(value, what, limit)


def _refuse_id_numbers(text: str) -> None:
    for match in _ID_NUMBER_CANDIDATE.finditer(text):
        try:
            accounts.normalise_id_number(match.group(0))
        except accounts.IdentifierError:
            continue
        raise UserInputError("消息中不得包含身份证号码", code="inbox_personal_data")


def _same_recipient(message: InboxMessage, person_id: int | None, organisation_id: int | None) -> InboxMessage:
    if (message.recipient_person_id, message.recipient_organisation_id) != (person_id, organisation_id):
        raise ConflictError("去重键已用于另一收件人的消息", code="inbox_dedupe_conflict")
    return message

