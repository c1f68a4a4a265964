"""Names and code lists of the 一网通办 service-item protocol (办件上报), shared by client and sandbox.

NO PUBLIC INTERFACE SPECIFICATION EXISTS for the Anhui government-service platform's 一网通办
interface (shared/domain.md §9: "list service items, receive applications, push status/results";
item codes U(none)). Every name, code and field here is OURS, chosen for the sandbox; the protocol
itself is described in :mod:`adapters.gov_platform.client`. A real platform with other names needs
this table (and the client's field mapping) changed, not the portal.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from adapters.signing import HeaderNames

#: Every machine path starts here, below the platform's base URL.
API_PREFIX = "/gov/api/v1"

#: The calling system (our portal), registered at the platform with a shared secret.
HEADER_APP_ID = "X-Gov-App-Id"
#: Requests and answers are signed with the scheme of :mod:`adapters.signing`.
HEADERS = HeaderNames("X-Gov-Timestamp", "X-Gov-Nonce", "X-Gov-Signature")


class Stage(enum.StrEnum):
    """办件环节 reported to the platform (ours; the applicant sees the label)."""

    RECEIVED = "received"  #: 已收件 (申请已提交)
    ACCEPTED = "accepted"  #: 已受理
    SUPPLEMENT_REQUESTED = "supplement_requested"  #: 一次性告知补正
    SUPPLEMENT_RECEIVED = "supplement_received"  #: 已补正
    NOT_ACCEPTED = "not_accepted"  #: 不予受理
    SUSPENDED = "suspended"  #: 中止
    RESUMED = "resumed"  #: 恢复
    INVESTIGATING = "investigating"  #: 调查核实
    DECIDED = "decided"  #: 已作出决定
    SERVED = "served"  #: 已送达
    WITHDRAWN = "withdrawn"  #: 已撤回
    COMPLETED = "completed"  #: 办结

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = MappingProxyType({
    Stage.RECEIVED: "已收件",
    Stage.ACCEPTED: "已受理",
    Stage.SUPPLEMENT_REQUESTED: "一次性告知补正",
    Stage.SUPPLEMENT_RECEIVED: "已补正",
    Stage.NOT_ACCEPTED: "不予受理",
    Stage.SUSPENDED: "中止",
    Stage.RESUMED: "恢复",
    Stage.INVESTIGATING: "调查核实",
    Stage.DECIDED: "已作出决定",
    Stage.SERVED: "已送达",
    Stage.WITHDRAWN: "已撤回",
    Stage.COMPLETED: "办结",
})


class ApplicantKind(enum.StrEnum):
    NATURAL = "natural"  #: 自然人
    LEGAL = "legal"  #: 法人


APPLICANT_KIND_LABELS = MappingProxyType({ApplicantKind.NATURAL: "自然人", ApplicantKind.LEGAL: "法人"})


class ServiceItem(enum.StrEnum):
    """事项 the portal reports, by our internal name; their 事项编码 and 事项名称 are the province's
    (``config/regions.toml`` ``[province.platform_items]``, read with ``portal.regions.province().platform_item``)."""

    RECOGNITION = "recognition"  #: 工伤认定
    UNIT_ENROLLMENT = "unit_enrollment"  #: 工伤保险参保登记（用人单位）
    PROJECT_ENROLLMENT = "project_enrollment"  #: 建筑项目按项目参加工伤保险登记


#: Result codes in every JSON answer (``code``), with the message the peer sends beside them.
class ResultCode(enum.StrEnum):
    OK = "ok"
    UNKNOWN_APP = "unknown_app"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    REPLAYED_NONCE = "replayed_nonce"
    INVALID_PAYLOAD = "invalid_payload"
    ITEM_NOT_FOUND = "item_not_found"
    ITEM_COMPLETED = "item_completed"
    UNAVAILABLE = "unavailable"


RESULT_MESSAGES = MappingProxyType({
    ResultCode.OK: "成功",
    ResultCode.UNKNOWN_APP: "接入应用未登记",
    ResultCode.BAD_SIGNATURE: "签名无效",
    ResultCode.STALE_TIMESTAMP: "请求时间戳超出允许范围",
    ResultCode.REPLAYED_NONCE: "请求已处理过（随机数重复）",
    ResultCode.INVALID_PAYLOAD: "请求内容不完整或格式不正确",
    ResultCode.ITEM_NOT_FOUND: "办件不存在",
    ResultCode.ITEM_COMPLETED: "办件已办结，不能再上报环节",
    ResultCode.UNAVAILABLE: "平台暂时无法处理请求",
})

#: 好差评 ratings (five levels, as on the national evaluation system), best first.
EVALUATION_RATINGS = MappingProxyType({
    "5": "非常满意",
    "4": "满意",
    "3": "基本满意",
    "2": "不满意",
    "1": "非常不满意",
})
