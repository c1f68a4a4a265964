"""Statuses and kinds stored by a stable code and shown by their Chinese label.

    class UnitStatus(LabelledEnum):
        DRAFT = "draft", "草稿（未提交）"
        SUBMITTED = "submitted", "待审核"

``UnitStatus("draft")`` finds the member by its code, ``UnitStatus.DRAFT.label`` is what people
read, and ``labels(UnitStatus)`` the code → label table forms and templates use. The Chinese term
stands once, where the member is defined.
"""

from __future__ import annotations

import enum


class LabelledEnum(enum.StrEnum):
    label: str

    def __new__(cls, value: str, label: str | None = None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value
        return member


def labels(cls: type[LabelledEnum]) -> dict[LabelledEnum, str]:
    """Member → label, in definition order (for choices and templates)."""
    return {member: member.label for member in cls}
