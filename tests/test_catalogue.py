"""The message catalogue: complete in every language, placeholders intact, plural forms and
numbers the language's own way."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from bot import i18n

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_message_exists_in_every_language() -> None:
    english = i18n.catalogue_keys("en")
    assert len(english) > 20
    for language in i18n.LANGUAGES:
        missing = english - i18n.catalogue_keys(language)
        extra = i18n.catalogue_keys(language) - english
        assert not missing, f"{language} lacks {sorted(missing)}"
        assert not extra, f"{language} has messages English lacks: {sorted(extra)}"


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_translations_keep_the_placeholders_of_english(language: str) -> None:
    from babel.messages.pofile import read_po

    def placeholders(path) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
        with path.open("rb") as handle:
            catalog = read_po(handle)
        found = {}
        for message in catalog:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found[key] = set().union(*(_PLACEHOLDER.findall(s) for s in strings))
        return found

    english = placeholders(i18n._catalogue.po_file("en"))
    other = placeholders(i18n._catalogue.po_file(language))
    for key, names in other.items():
        # A plural form may spell its number out ("שתי שניות"), never invent a placeholder
        # or leave one of the others out.
        assert names <= english[key] | {"count"}, (language, key, names - english[key])
        assert english[key] - {"count"} <= names, (language, key, english[key] - names)


def test_plural_forms_follow_each_language() -> None:
    assert "1 second " in i18n.plural("core.rate_limited", 1, "en")
    assert "5 seconds" in i18n.plural("core.rate_limited", 5, "en")
    assert "שנייה אחת" in i18n.plural("core.rate_limited", 1, "he")
    assert "שתי שניות" in i18n.plural("core.rate_limited", 2, "he")
    assert "7 שניות" in i18n.plural("core.rate_limited", 7, "he")
    assert "1 seconde " in i18n.plural("core.rate_limited", 1, "fr")
    assert "3 secondes" in i18n.plural("core.rate_limited", 3, "fr")
    assert "3 秒" in i18n.plural("core.rate_limited", 3, "zh")


def test_numbers_money_and_dates_are_written_the_languages_way() -> None:
    assert i18n.number(12345.5, "de") == "12.345,5"
    assert i18n.number(12345.5, "fr") == "12\u202f345,5"
    assert i18n.money(15_000_000, "EUR", "de") == "15.000.000\xa0€"
    assert i18n.money(15_000_000, "EUR", "en") == "€15,000,000"
    assert i18n.list_of(["a", "b", "c"], "zh") == "a、b和c"
    # Hebrew's "and" is a prefix, hyphenated before a word in another script.
    assert i18n.list_of(["מינכן 3", "תל אביב 2"], "he") == "מינכן 3 ותל אביב 2"
    assert i18n.list_of(["L-0002", "L-0003", "L-0012"], "he") == "L-0002, L-0003 ו-L-0012"
    assert i18n.date(dt.date(2026, 9, 26), "zh") == "2026年9月26日"


def test_client_language_tags_map_to_the_working_languages() -> None:
    assert i18n.supported("zh-CN") == "zh"
    assert i18n.supported("he_IL") == "he"
    assert i18n.supported("iw") == "he"
    assert i18n.supported("pt-BR") == "en"
    assert i18n.supported(None) == "en"


def test_a_missing_translation_falls_back_to_english_and_an_unknown_id_fails() -> None:
    assert i18n.text("answer.sources", "pt") == "Sources"
    with pytest.raises(i18n.MissingMessageError):
        i18n.text("no.such.message", "en")


# ---------------------------------------------------------------- no string tables outside it
_REPO = Path(__file__).resolve().parents[1]
# The catalogue's own tables of languages: names for prompts and the CLDR locale of each.
_ALLOWED_TABLES = {
    ("bot/i18n/_catalogue.py", "LANGUAGE_NAMES"),
    ("bot/i18n/_catalogue.py", "_BABEL_LOCALES"),
}


def _is_text(node: ast.AST) -> bool:
    """A string, or a table or list of strings: what a per-language table holds."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Dict):
        return any(value is not None and _is_text(value) for value in node.values)
    if isinstance(node, ast.List | ast.Tuple):
        return any(_is_text(item) for item in node.elts)
    return False


def string_tables(source: str) -> list[tuple[int, str]]:
    """(line, name) of every dict literal keyed by two or more of the working languages with
    text under them: a per-language string table, which belongs in the .po files. Numbers
    per language (the abstain thresholds) are not text and pass."""
    names: dict[int, str] = {}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    names[id(node.value)] = target.id
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        by_key = {
            key.value: value
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        }
        languages = [key for key in by_key if key in i18n.LANGUAGES]
        if len(languages) >= 2 and any(_is_text(by_key[key]) for key in languages):
            found.append((node.lineno, names.get(id(node), "")))
    return found


def test_the_scan_finds_a_string_table() -> None:
    source = 'X = {"a": {"zh": "你好", "en": "hello"}}\nY = {"zh": {"title": "标题"}, "en": {}}\n'
    assert sorted(line for line, _ in string_tables(source)) == [1, 2]
    assert string_tables('_THOUSANDS = {"de": ".", "fr": " "}\n') == [(1, "_THOUSANDS")]
    assert string_tables('THRESHOLDS = {"zh": 0.04, "en": 0.03}\n') == []


def test_no_module_keeps_a_per_language_string_table() -> None:
    offenders = []
    for path in sorted([*(_REPO / "bot").rglob("*.py"), *(_REPO / "adapters").rglob("*.py")]):
        relative = path.relative_to(_REPO).as_posix()
        for line, name in string_tables(path.read_text(encoding="utf-8")):
            if (relative, name) not in _ALLOWED_TABLES:
                offenders.append(f"{relative}:{line} {name}")
    assert offenders == [], "move these strings into bot/i18n/locale/*/zbrain.po"
