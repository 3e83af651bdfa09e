"""What the lead intake understands in the six working languages, and what it says (from the
message catalogue, ids "intake.*").

The word lists recognise what people type; they are input, not output, so they stay here.
"""

from __future__ import annotations

from bot import i18n

# Phrases that start an intake; a message starting with one of them (or /lead) is a new lead.
TRIGGERS = (
    "/lead",
    "new lead",
    "submit a lead",
    "submit a project",
    "new project lead",
    "新线索",
    "新项目线索",
    "提交线索",
    "提交项目",
    "报送线索",
    "neuer lead",
    "neues projekt",
    "lead melden",
    "nouveau lead",
    "nouveau projet",
    "soumettre un projet",
    "새 리드",
    "신규 리드",
    "새 프로젝트",
    "ליד חדש",
    "פרויקט חדש",
)
YES = {
    "yes",
    "y",
    "ok",
    "save",
    "confirm",
    "是",
    "确认",
    "好",
    "保存",
    "ja",
    "speichern",
    "oui",
    "enregistrer",
    "네",
    "예",
    "저장",
    "כן",
    "שמור",
    "אישור",
}
# Words that drop the draft at any step.
CANCEL = {"cancel", "stop", "取消", "放弃", "abbrechen", "annuler", "취소", "ביטול"}
# A plain "no": at the draft it means "change something", elsewhere it drops the draft.
NEGATIVE = {"no", "不", "否", "不对", "nein", "non", "아니요", "아니오", "아니", "לא"}
NO = CANCEL | NEGATIVE
# At the draft: "I want to change something".
CHANGE = {
    "change", "edit", "correct", "修改", "更改", "改", "ändern", "korrigieren", "modifier",
    "corriger", "수정", "변경", "שנה", "לשנות", "תיקון",
}  # fmt: skip
SKIP = {
    "skip",
    "-",
    "n/a",
    "none",
    "跳过",
    "无",
    "不详",
    "überspringen",
    "keine",
    "passer",
    "aucun",
    "건너뛰기",
    "없음",
    "דלג",
    "אין",
}
# What people call a lead field when they correct it ("investment: EUR 20m", "Sektor:
# Wasserstoff", "投资额：2000万美元"); the draft's own labels (intake.field.*) count as well.
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "company": (
        "company", "company name", "firm", "firma", "unternehmen", "公司", "企业", "企业名称",
        "公司名称", "회사", "회사명", "기업", "기업명", "חברה", "שם החברה", "société",
        "entreprise",
    ),
    "node": ("node", "knoten", "节点", "海外节点", "노드", "거점", "צומת", "nœud", "noeud"),
    "sectors": (
        "sector", "sectors", "industry", "sektor", "sektoren", "branche", "branchen", "领域",
        "行业", "产业", "산업", "분야", "업종", "תחום", "תחומים", "ענף", "secteur", "secteurs",
    ),
    "investment": (
        "investment", "amount", "investition", "investitionssumme", "投资", "投资额", "投资金额",
        "投资规模", "투자", "투자액", "투자금액", "השקעה", "investissement", "montant",
    ),
    "expected_jobs": (
        "jobs", "expected jobs", "arbeitsplätze", "stellen", "就业", "就业岗位", "岗位",
        "预计就业", "일자리", "고용", "משרות", "מקומות עבודה", "emplois",
    ),
    "needs": (
        "needs", "need", "bedarf", "需求", "需要", "수요", "필요", "필요 사항", "צרכים", "צורך",
        "besoins", "besoin",
    ),
    "contact": (
        "contact", "contact person", "kontakt", "ansprechpartner", "联系人", "联系方式",
        "담당자", "연락처", "איש קשר", "contact",
    ),
    "summary": (
        "description", "summary", "beschreibung", "简介", "描述", "说明", "项目简介", "설명",
        "개요", "תיאור", "תקציר", "résumé",
    ),
}  # fmt: skip
ADD = {"add", "merge", "添加", "合并", "补充", "hinzufügen", "ajouter", "추가", "הוסף"}
NEW = {"new", "create", "新建", "新的", "neu", "nouveau", "신규", "새로", "חדש"}


def say(key: str, language: str, **values: object) -> str:
    """The intake's sentence `key` ("ask_company", "saved", ...) from the message catalogue."""
    return i18n.text(f"intake.{key}", language, **values)


def label(field: str, language: str) -> str:
    """The draft's label for a lead field ("company", "expected_jobs", ...)."""
    return i18n.text(f"intake.field.{field}", language)
