"""User-facing strings of the answer pipeline in the six working languages.

A small catalogue in code rather than gettext files: six languages and a handful of strings,
reviewed together with the code that uses them.
"""

from __future__ import annotations

LANGUAGE_NAMES = {
    "zh": "Chinese (简体中文)",
    "en": "English",
    "de": "German (Deutsch)",
    "ko": "Korean (한국어)",
    "he": "Hebrew (עברית)",
    "fr": "French (Français)",
}

_STRINGS: dict[str, dict[str, str]] = {
    "extractive_preface": {
        "zh": "以下为知识库原文摘录（未经翻译，未使用语言模型）：",
        "en": "Excerpts from the knowledge base, quoted as written (no language model used):",
        "de": "Auszüge aus der Wissensdatenbank im Originalwortlaut (ohne Sprachmodell):",
        "ko": "지식 베이스 원문 발췌입니다(번역 없음, 언어 모델 미사용):",
        "he": "קטעים ממאגר הידע, מצוטטים כלשונם (ללא מודל שפה):",
        "fr": "Extraits de la base de connaissances, cités tels quels (sans modèle de langue) :",
    },
    "abstain": {
        "zh": "知识库中没有找到能回答这个问题的内容。",
        "en": "The knowledge base does not cover this question.",
        "de": "Die Wissensdatenbank enthält dazu keine Angaben.",
        "ko": "지식 베이스에 이 질문에 답할 수 있는 내용이 없습니다.",
        "he": "מאגר הידע אינו מכסה שאלה זו.",
        "fr": "La base de connaissances ne couvre pas cette question.",
    },
    "contact": {
        "zh": "如需进一步帮助，请联系{division}：{contact}",
        "en": "For further help, contact the {division}: {contact}",
        "de": "Für weitere Hilfe wenden Sie sich an die {division}: {contact}",
        "ko": "추가 문의는 {division}에 연락하십시오: {contact}",
        "he": "לעזרה נוספת פנו אל {division}: {contact}",
        "fr": "Pour plus d'aide, contactez la {division} : {contact}",
    },
    "expired": {
        "zh": "注意：[{number}] 已于 {date} 失效。",
        "en": "Note: [{number}] expired on {date}.",
        "de": "Hinweis: [{number}] ist am {date} ausgelaufen.",
        "ko": "참고: [{number}]은(는) {date}에 만료되었습니다.",
        "he": "שימו לב: [{number}] פג תוקפו ב-{date}.",
        "fr": "Remarque : [{number}] a expiré le {date}.",
    },
    "sources": {
        "zh": "来源",
        "en": "Sources",
        "de": "Quellen",
        "ko": "출처",
        "he": "מקורות",
        "fr": "Sources",
    },
}


def supported(language: str) -> str:
    """The language itself when we have strings for it, else English."""
    return language if language in LANGUAGE_NAMES else "en"


def text(key: str, language: str, **values: str) -> str:
    return _STRINGS[key][supported(language)].format(**values)


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)
