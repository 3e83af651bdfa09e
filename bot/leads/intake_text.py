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
NO = {
    "no",
    "cancel",
    "stop",
    "取消",
    "不",
    "否",
    "放弃",
    "abbrechen",
    "nein",
    "annuler",
    "non",
    "취소",
    "아니요",
    "ביטול",
    "לא",
}
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
ADD = {"add", "merge", "添加", "合并", "补充", "hinzufügen", "ajouter", "추가", "הוסף"}
NEW = {"new", "create", "新建", "新的", "neu", "nouveau", "신규", "새로", "חדש"}


def say(key: str, language: str, **values: str) -> str:
    """The intake's sentence `key` ("ask_company", "saved", ...) from the message catalogue."""
    return i18n.text(f"intake.{key}", language, **values)


def label(field: str, language: str) -> str:
    """The draft's label for a lead field ("company", "expected_jobs", ...)."""
    return i18n.text(f"intake.field.{field}", language)
