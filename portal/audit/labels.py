"""Chinese names of audit actions, as the audit browser shows them (issue 13 point 4).

An action is a stable code written by the service that acted (``recognition.accept``); staff read
its name ("工伤认定：受理"). Status changes are named from their machine's action labels (the
``LabelledEnum`` of each area's models), everything else from :data:`ACTION_LABELS`. A code with no
name is shown as the code, with a note, so a new action is visible rather than hidden.
"""

from __future__ import annotations

from functools import lru_cache

#: actions written outside the state machines, by code
ACTION_LABELS: dict[str, str] = {
    "login.success": "登录成功",
    "login.failure": "登录失败",
    "logout": "退出登录",
    "session.revoke": "强制退出登录",
    "person.read_personal_data": "查看个人信息",
    "person.write_personal_data": "修改个人信息",
    "person.link": "合并同一人员",
    "person.keep_separate": "确认不是同一人员",
    "person.name_mismatch_found": "发现姓名不一致",
    "person.read_name_mismatches": "查看姓名不一致人员",
    "staff.deactivate": "停用工作人员账号",
    "keys.rotate": "更换加密密钥",
    "ops.self_check_requested": "系统自检",
    "api.project_cover.read": "机器接口：查询项目参保",
    "api.refused": "机器接口：拒绝调用",
    "api_client.create": "登记机器接口调用单位",
    "certificate.issue": "开具参保证明",
    "materials.upload": "上传材料",
    "materials.generate": "生成文书",
    "materials.read": "查看材料",
    "inbox.read": "阅读收件箱消息",
    "clocks.override_added": "登记节假日安排",
    "clocks.override_removed": "删除节假日安排",
    "clocks.year_marked_complete": "确认年度节假日安排",
    "clocks.year_unmarked": "撤销年度节假日确认",
    "clocks.due_dates_recomputed": "重新计算办理期限",
    "enrollment.member_add": "增加参保人员",
    "enrollment.member_import": "批量导入参保人员",
    "enrollment.member_remove": "参保人员减员",
    "enrollment.member_wage_change": "变更缴费工资基数",
    "enrollment.members_read_personal_data": "查看参保人员信息",
    "enrollment.unit_read_personal_data": "查看参保单位信息",
    "project.poster": "下载工地公示牌",
    "project.read_personal_data": "查看项目花名册人员信息",
    "project.roster_add": "花名册增加人员",
    "project.roster_import": "花名册批量导入",
    "project.roster_remove": "花名册减少人员",
    "payments.bill_issued": "开具缴费单",
    "payments.callback_received": "收到征收平台缴费通知",
    "payments.callback_refused": "拒绝无效的缴费通知",
    "payments.queried": "向征收平台查询缴费结果",
    "payments.reference_issued": "申请缴款码",
    "recognition.case_read": "查看工伤认定案件",
    "recognition.read_medical_data": "查看医疗诊断材料",
    "recognition.supplement_upload": "上传补正材料",
    "recognition.note": "记录办理情况",
    "recognition.due_dates_recomputed": "重新计算案件期限",
    "recognition.urge": "督办",
    "recognition.answer_urge": "答复督办",
}

#: (audit action pattern of a state machine, what it acts on, models module, action enum)
MACHINE_ACTIONS = (
    ("recognition.{action}", "工伤认定", "portal.recognition.models", "CaseAction"),
    ("enrollment.unit_{action}", "单位参保登记", "portal.enrollment.models", "UnitAction"),
    ("project.{action}", "项目参保", "portal.projects.models", "ProjectAction"),
    ("payments.{action}", "缴费单", "portal.payments.models", "BillAction"),
)


@lru_cache(maxsize=1)
def all_labels() -> dict[str, str]:
    """Every known action code with its Chinese name."""
    from importlib import import_module

    labels: dict[str, str] = {}
    for pattern, thing, module, enum_name in MACHINE_ACTIONS:
        for action in getattr(import_module(module), enum_name):
            labels[pattern.format(action=action.value)] = f"{thing}：{action.label}"
    labels.update(ACTION_LABELS)
    return labels


def action_label(code: str) -> str | None:
    """The Chinese name of audit action ``code``; None when it has none (shown as the code)."""
    return all_labels().get(code)
