from __future__ import annotations

import pytest

from knowledge.language import detect_language, normalize_tag


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("补贴？", "zh"),
        ("AI 算力券怎么申请", "zh"),  # mixed: Latin acronym inside a Chinese question
        ("PCT 专利资助", "zh"),
        ("Wie hoch ist die Mietförderung?", "de"),
        ("Quelle aide pour les laboratoires ?", "fr"),
        ("수소 보조금", "ko"),
        ("מה גובה המענק?", "he"),
        ("How much is the lab rent subsidy?", "en"),
        ("Zhengzhou 高新区 Hidden Champions 政策", "zh"),
    ],
)
def test_short_and_mixed_questions(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_text_without_letters_falls_back_to_the_default() -> None:
    assert detect_language("500 / 2025", default="zh") == "zh"


def test_tags() -> None:
    assert normalize_tag("zh_hant_tw") == ("zh", "zh-Hant-TW")
    assert normalize_tag("iw") == ("he", "he")
    assert normalize_tag("Deutsch (Schweiz)") is None
