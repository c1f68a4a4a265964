"""What each role's home page offers (我的首页 / 单位首页 / 工作台). Plain Python, no Flask, no database.

Everything a home page shows comes from the signed-in actor and from the tables here: the page
each role lands on, the services it can use now (a card each, linking to the service's page),
and those later releases bring (plain text, never links to pages that do not exist yet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from portal.auth.roles import Role

__all__ = ["Card", "Offer", "home_endpoint", "offer", "upcoming"]

#: endpoint of each role's home page
HOME_ENDPOINTS = {
    Role.WORKER: "home.worker",
    Role.EMPLOYER: "home.employer",
    Role.CLERK: "home.staff",
    Role.RECOGNITION_OFFICER: "home.staff",
    Role.APPRAISAL_OFFICE: "home.staff",
    Role.FINANCE: "home.staff",
    Role.PROVINCIAL: "home.province",
}

#: services that later releases bring, per role (shown as text)
UPCOMING_SERVICES = {
    Role.WORKER: ("劳动能力鉴定申请", "待遇发放记录查询"),
    Role.EMPLOYER: ("劳动能力鉴定申请", "工伤保险待遇申领"),
    Role.CLERK: ("工伤保险待遇核定",),
    Role.RECOGNITION_OFFICER: ("工伤认定行政复议、诉讼结果登记",),
    Role.APPRAISAL_OFFICE: ("劳动能力鉴定受理与专家抽取",),
    Role.FINANCE: ("月度支出用款计划与基金拨付",),
    Role.PROVINCIAL: ("全省统计与各市考核数据",),
}


@dataclass(frozen=True)
class Card:
    """One service a role can use now: its name links to ``endpoint``."""

    title: str
    endpoint: str
    text: str
    #: further links under the text: (endpoint, words)
    also: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Offer:
    """The section of a home page that lists what the role can use now."""

    heading: str
    cards: tuple[Card, ...]
    #: id of the heading (the section is labelled by it)
    heading_id: str = "available-title"
    #: a closing sentence under the cards
    note: str | None = None


OFFERS = {
    Role.WORKER: Offer("现在可以办理", (
        Card("申请工伤认定", "recognition.new_case",
             "申请工伤认定或查看已提交的申请：办理环节、办理机构、法定期限和决定文书。本人受伤或近亲属代为申请（含职工死亡）。",
             also=(("recognition.index", "我的工伤认定"),)),
        Card("收件箱", "inbox.index", "查看工伤认定等事项的通知、补正材料要求和决定文书；需要您处理的消息排在最前面。"),
        Card("我的参保情况", "projects.my_cover",
             "查看单位是否已为您参加工伤保险；在建筑工地干活的，查看自己是否已登记在项目实名制花名册。都显示从哪天起受保障。"),
        Card("个人信息", "accounts.profile", "查看您登记的身份证号码、手机号码（部分隐藏显示），设置工伤保险待遇发放账户。"),
        Card("待遇测算", "benefits.estimate_page",
             "估算可以享受的一次性伤残补助金、伤残津贴、生活护理费等待遇和计算过程；已有工伤认定案件的，可以从案件填入日期。"),
        Card("办事指南", "public.search", "工伤认定、劳动能力鉴定、待遇申领等事项的申请材料、办理时限和法律依据。"),
    )),
    Role.EMPLOYER: Offer("现在可以办理", (
        Card("申请工伤认定", "recognition.new_case",
             "为本单位受伤职工申请工伤认定（事故发生或职业病诊断之日起{period:employer_filing}内），查看本单位职工工伤认定案件的办理进度和认定决定书。",
             also=(("recognition.index", "我的工伤认定"),)),
        Card("收件箱", "inbox.index", "查看本单位职工工伤认定等事项的通知、补正材料要求和决定文书；需要单位处理的消息排在最前面。"),
        Card("单位参保登记", "enrollment.unit",
             "在线填写单位参保登记信息，提交所在地市经办机构审核，查看审核进度、退回原因、行业风险类别和费率。"),
        Card("参保人员增减", "enrollment.members_list",
             "单位参保后逐个或用 Excel / CSV 文件批量增加参保人员、变更缴费工资基数、办理减员，含超龄人员、实习生单险种参保；显示每月应缴保费及计算公式。"),
        Card("按项目参保", "projects.index",
             "施工总承包单位为工程建设项目登记参保、缴纳项目工伤保险费（先参保、后开工），登记开工、竣工，管理实名制花名册，下载工地公示牌。"),
        Card("缴费单", "payments.bills", "查看工伤保险费缴费单和缴费状态，通过税务部门社会保险费征收平台缴费，查询缴费结果。"),
        Card("办事指南", "public.search", "单位参保登记、按项目参保、工伤认定申请等事项的申请材料、办理时限和法律依据。"),
    ), note="用人单位应当自职工事故伤害发生之日或者被诊断、鉴定为职业病之日起{period:employer_filing}内提出工伤认定申请（《工伤保险条例》第十七条）。"),
    Role.CLERK: Offer("现在可以办理", (
        Card("单位参保登记审核", "enrollment.clerk_inbox",
             "本市用人单位提交的参保登记：按状态、县（区）、单位名称筛选，审核通过（确认行业风险类别和费率档次）或退回补正；查看参保人员及需复核的单险种人员。"),
        Card("项目参保待办", "projects.inbox",
             "本市按项目参保的工程建设项目：缴费情况、实名制花名册、同期在其他项目名册需核查的人员，缴费前可调整缴费基数。"),
        Card("姓名不一致待核实", "accounts.name_mismatches",
             "用人单位或申请人录入的人员姓名与本人实名登录的姓名不一致的：确认为同一人后并入实名记录，或标记为不是同一人并通知录入方核对。"),
    )),
    Role.RECOGNITION_OFFICER: Offer("工伤认定", (
        Card("工伤认定案件", "recognition.office_queue",
             "本市工伤认定申请：按法定期限排序，已超期和有催办的在前；审查材料、一次性告知补正、受理、调查核实、中止、作出认定决定并送达。"),
    ), heading_id="recognition-title"),
    Role.PROVINCIAL: Offer("现在可以使用", (
        Card("各市单位参保情况", "enrollment.province_overview",
             "各地市参保单位按状态的数量、在保人数和每月应缴保费，点击数字查看单位列表。"),
        Card("全省按项目参保统计", "projects.overview",
             "各地市工程建设项目按状态的数量、在册人数、待缴和已缴项目保费，点击数字查看项目列表。"),
        Card("超期监督", "recognition.office_overview",
             "各市工伤认定案件的在办、即将到期、已超期、中止和待答复催办数量，点击地市查看超期和即将到期的案件。"),
        Card("姓名不一致待核实", "accounts.name_mismatches",
             "各市录入人员姓名与本人实名登录姓名不一致、尚待核实的记录（含早期录入、无法确定地市的）。"),
        Card("审计日志", "audit.index",
             "按操作、地市、操作人、对象和日期查询登录、业务操作和个人信息查看记录；记录以哈希链相连，不能修改或删除。"),
        Card("节假日维护", "clocks.holidays",
             "维护法定期限计算所用的工作日历：录入新年度的放假和调休上班日期，确认全年安排录入完整后即可按工作日计算期限。"),
        Card("系统自检", "ops.self_check", "由后台任务检查数据库连接和审计链完整性，并记录每次检查的结果。"),
    )),
}


def home_endpoint(role: Role) -> str:
    """The endpoint of ``role``'s home page."""
    return HOME_ENDPOINTS[role]


#: "{period:<deadline rule>}" in a card's text: the period in force, from the deadline rules
_PERIOD = re.compile(r"\{period:(\w+)\}")


def _periods(text: str | None) -> str | None:
    from portal.clocks import service as clocks

    return _PERIOD.sub(lambda m: clocks.statutory_period(m.group(1)), text) if text else text


def offer(role: Role) -> Offer | None:
    """What ``role`` can use now; None when nothing is open to it yet. Periods in the texts are
    written as ``{period:<rule>}`` and filled from the deadline rules in force today."""
    found = OFFERS.get(role)
    if found is None:
        return None
    cards = tuple(replace(c, text=_periods(c.text)) for c in found.cards)
    return replace(found, cards=cards, note=_periods(found.note))


def upcoming(role: Role) -> tuple[str, ...]:
    """The services later releases bring to ``role``."""
    return UPCOMING_SERVICES[role]
