"""办事指南目录: the shipped catalogue is complete and faithful, and bad files are refused."""

from __future__ import annotations

import copy

import pytest

from portal.public.catalogue import (
    SECTIONS,
    CatalogueError,
    ServiceItem,
    load_catalogue,
    parse_catalogue,
)

#: one item per service item of shared/domain.md §4 (4.1 … 4.12)
DOMAIN_ITEMS = ("unit-enrollment", "project-enrollment", "roster-change", "injury-report",
                "injury-recognition", "work-ability-appraisal", "benefit-claim", "medical-settlement",
                "rehabilitation", "assistive-device", "offsite-treatment", "cross-province")


@pytest.fixture(scope="module")
def shipped():
    return load_catalogue()


def _text(item: ServiceItem, section: str) -> str:
    value = getattr(item, section)
    return " ".join(value) if isinstance(value, tuple) else value


def _valid_data() -> dict:
    return {
        "source": "《工伤保险条例》",
        "general": [{"text": "可以委托他人代为办理。", "confidence": "C"}],
        "items": [
            {"code": "injury-recognition", "name": "工伤认定申请", "applicants": "用人单位",
             "materials": ["工伤认定申请表", "医疗诊断证明"], "time_limit": "60日",
             "legal_basis": ["《工伤保险条例》第十七条"], "outcome": "认定工伤决定书",
             "confidence": "C", "notes": "", "place": "市人力资源和社会保障局", "fee": "不收费。",
             "steps": ["提交申请", "审查受理"], "offline": "到窗口提交。", "online": "recognition.index"},
            {"code": "benefit-claim", "name": "工伤保险待遇申领", "applicants": "工伤职工",
             "materials": ["社会保障卡"], "time_limit": "未查到（待核实）",
             "legal_basis": ["《工伤保险条例》第五十五条"], "outcome": "核定结果",
             "confidence": "U", "unconfirmed": ["time_limit"], "notes": "说明", "place": "经办机构",
             "fee": "不收费。", "steps": ["申请", "核定"], "offline": "到窗口申请。"},
        ],
    }


# --- the shipped file ---------------------------------------------------------------------------


def test_shipped_catalogue_has_every_service_item_of_the_domain_reference(shipped):
    codes = [item.code for item in shipped.items]
    assert codes == list(DOMAIN_ITEMS)
    assert len(set(item.name for item in shipped.items)) == len(codes)
    assert "《工伤保险条例》" in shipped.source and "皖人社发〔2023〕21号" in shipped.source


def test_every_item_is_complete(shipped):
    for item in shipped.items:
        assert item.name and item.applicants and item.time_limit and item.outcome, item.code
        assert item.materials and all(item.materials), item.code
        assert item.legal_basis and all(item.legal_basis), item.code
        assert item.confidence in ("C", "U")


def test_every_unconfirmed_marker_sits_in_a_flagged_section(shipped):
    """Text saying 待核实 must be in a section the page badges; C items have none."""
    for item in shipped.items:
        for section in SECTIONS:
            if "待核实" in _text(item, section):
                assert item.section_unconfirmed(section), f"{item.code}.{section}"
        if item.confidence == "C":
            assert not item.unconfirmed
            assert not any("待核实" in _text(item, s) for s in SECTIONS), item.code
        else:
            assert item.unconfirmed, item.code


@pytest.mark.parametrize("code, section, figures", [
    # domain.md §4.5 / §5 D1, D2, D5, D6 (R 17, R 20: confirmed)
    ("injury-recognition", "applicants", ["30日", "1年", "工会组织"]),
    ("injury-recognition", "time_limit", ["60日", "15日", "20日"]),
    ("injury-recognition", "outcome", ["60日", "6个月"]),
    # §4.6 / D8–D12 (R 25, 26, 28, 29)
    ("work-ability-appraisal", "time_limit", ["5个工作日", "60日", "30日", "15日", "1年"]),
    # §4.2, AH 三(一)2: 1.5‰
    ("project-enrollment", "notes", ["1.5‰"]),
    ("project-enrollment", "time_limit", ["先参保、后开工"]),
    # §4.1 / D16, §4.8 / D14, §4.7 / D15
    ("unit-enrollment", "time_limit", ["10个工作日"]),
    ("medical-settlement", "time_limit", ["20个工作日"]),
    ("benefit-claim", "time_limit", ["20个工作日"]),
    # §4.11: cross-province direct settlement from 2025-04-01 (R17 U(sec))
    ("offsite-treatment", "notes", ["2025年4月1日"]),
])
def test_deadline_figures_follow_the_domain_reference(shipped, code, section, figures):
    text = _text(shipped.get(code), section)
    for figure in figures:
        assert figure in text, (code, section, figure)


def test_figures_the_reference_marks_unconfirmed_are_flagged(shipped):
    # RD 8 (15-day acceptance) and AD 9 (5 working days) are U(sec) in domain.md
    assert shipped.get("injury-recognition").section_unconfirmed("time_limit")
    assert shipped.get("work-ability-appraisal").section_unconfirmed("time_limit")
    # R103 (premium paid once before work) U(sec); 4.4 Anhui 快报 U(none)
    assert shipped.get("project-enrollment").section_unconfirmed("time_limit")
    assert shipped.get("injury-report").section_unconfirmed("time_limit")
    # 4.8 is confirmed throughout (JB 22, R 30, R 31)
    assert shipped.get("medical-settlement").confidence == "C"


def test_general_notes_carry_their_confidence(shipped):
    texts = {note.text: note.confidence for note in shipped.general}
    assert any("第三十一条" in text and conf == "C" for text, conf in texts.items())
    assert any("复印件" in text and conf == "U" for text, conf in texts.items())


# --- look-up ------------------------------------------------------------------------------------


def _codes(items):
    return [item.code for item in items]


def test_search_by_name_applicants_and_materials(shipped):
    assert "injury-recognition" in _codes(shipped.search("工伤认定"))
    assert "project-enrollment" in _codes(shipped.search("施工总承包单位"))  # applicants
    assert "injury-recognition" in _codes(shipped.search("劳动关系"))  # materials
    assert _codes(shipped.search("辅助器具配置确认")) == ["assistive-device"]


def test_search_is_width_and_case_insensitive_and_needs_every_word(shipped):
    assert _codes(shipped.search("  花名册 ")) == _codes(shipped.search("花名册"))
    assert _codes(shipped.search("ｕｎｉｔ")) == _codes(shipped.search("unit"))
    both = _codes(shipped.search("鉴定 申请表"))
    assert "work-ability-appraisal" in both
    assert all(code in _codes(shipped.search("鉴定")) for code in both)


def test_empty_query_lists_everything_and_nonsense_lists_nothing(shipped):
    assert shipped.search("") == shipped.items
    assert shipped.search(None) == shipped.items
    assert shipped.search("量子计算机") == ()


def test_search_does_not_look_at_legal_basis_or_notes(shipped):
    # "第五十五条" is only cited under 法律依据 / 办理结果
    assert shipped.search("第五十五条") == ()


# --- validation ---------------------------------------------------------------------------------


def test_valid_data_parses():
    catalogue = parse_catalogue(_valid_data())
    assert [item.code for item in catalogue.items] == ["injury-recognition", "benefit-claim"]
    assert catalogue.get("benefit-claim").section_unconfirmed("time_limit")
    assert catalogue.get("nope") is None


def _problems(mutate) -> str:
    data = copy.deepcopy(_valid_data())
    mutate(data)
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(data)
    return "\n".join(info.value.problems)


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["items"][0].pop("time_limit"), "missing key: time_limit"),
    (lambda d: d["items"][0].update(code="Unit_Enrollment"), "kebab-case"),
    (lambda d: d["items"][0].update(code="search"), "reserved code"),
    (lambda d: d["items"][1].update(code="injury-recognition"), "duplicate code"),
    (lambda d: d["items"][1].update(name="工伤认定申请"), "duplicate name"),
    (lambda d: d["items"][0].update(confidence="X"), "confidence must be C or U"),
    (lambda d: d["items"][1].update(unconfirmed=[]), "U needs unconfirmed sections"),
    (lambda d: d["items"][0].update(unconfirmed=["materials"]), "C must not list unconfirmed"),
    (lambda d: d["items"][1].update(unconfirmed=["fees"]), "unknown sections: fees"),
    (lambda d: d["items"][0].update(materials=[]), "materials"),
    (lambda d: d["items"][0].update(legal_basis="《工伤保险条例》"), "legal_basis"),
    (lambda d: d["items"][0].update(name="  "), "name"),
    (lambda d: d["items"][0].update(fees="0"), "unknown key: fees"),
    (lambda d: d.pop("source"), "missing source"),
    (lambda d: d.update(items=[]), "no [[items]]"),
    (lambda d: d.update(extra=1), "unknown key: extra"),
    (lambda d: d["general"][0].update(confidence="maybe"), "must be C or U"),
])
def test_invalid_catalogues_are_refused_with_a_reason(mutate, expected):
    assert expected in _problems(mutate)


def test_every_problem_is_reported_at_once():
    def mutate(d):
        d["items"][0].pop("outcome")
        d["items"][1].update(code="BAD CODE")
    problems = _problems(mutate)
    assert "missing key: outcome" in problems and "kebab-case" in problems


def test_a_file_with_a_syntax_error_is_refused(tmp_path):
    path = tmp_path / "catalogue.toml"
    path.write_text('source = "x"\n[[items]\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match="syntax error"):
        load_catalogue(path)


def test_the_error_names_the_file(tmp_path):
    path = tmp_path / "catalogue.toml"
    path.write_text('source = "x"\n', encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert str(path) in str(info.value)
