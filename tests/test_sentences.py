"""The sentence splitter used for quoting (knowledge/sentences.py), in the six languages."""

from __future__ import annotations

import pytest

from knowledge.sentences import passage_sentences, split_sentences

CASES = [
    # en: abbreviations, decimals, brackets, semicolons before lowercase
    (
        "Top talent (Nobel laureates, academicians of CAS/CAE, etc.) get RMB 5 million. "
        "Others get less.",
        [
            "Top talent (Nobel laureates, academicians of CAS/CAE, etc.) get RMB 5 million.",
            "Others get less.",
        ],
    ),
    (
        "Robots, drones etc. are eligible, e.g. for the pilot. The rate is 3.5 per cent.",
        ["Robots, drones etc. are eligible, e.g. for the pilot.", "The rate is 3.5 per cent."],
    ),
    (
        "Applicants should be no older than 55; no age limit for Category A.",
        ["Applicants should be no older than 55; no age limit for Category A."],
    ),
    (
        "Dr. Chen signed for Category A. Category B follows.",
        ["Dr. Chen signed for Category A.", "Category B follows."],
    ),
    # de: ordinal dates, z. B., Nr., bzw., ca.
    (
        "Die Eröffnung war am 26. September 2025 in München. Danach gab es z. B. einen "
        "Empfang bzw. eine Feier.",
        [
            "Die Eröffnung war am 26. September 2025 in München.",
            "Danach gab es z. B. einen Empfang bzw. eine Feier.",
        ],
    ),
    (
        "Antrag Nr. 5 kostet ca. 300 Euro. Das 3. Quartal war stark.",
        ["Antrag Nr. 5 kostet ca. 300 Euro.", "Das 3. Quartal war stark."],
    ),
    # fr: M., decimals with comma, semicolon before lowercase
    (
        "M. Dupont a signé le 3 mars ; la subvention est de 2,5 millions. Elle est versée.",
        ["M. Dupont a signé le 3 mars ; la subvention est de 2,5 millions.", "Elle est versée."],
    ),
    # zh: CJK terminators always end a sentence
    (
        "与区内用人单位签订3年以上劳动合同；本人无房。结果公示5个工作日！",
        ["与区内用人单位签订3年以上劳动合同；", "本人无房。", "结果公示5个工作日！"],
    ),
    # ko
    (
        "보조금은 500만 위안입니다. 신청은 온라인으로 합니다.",
        ["보조금은 500만 위안입니다.", "신청은 온라인으로 합니다."],
    ),
    # he
    (
        "המענק הוא 5 מיליון יואן. התנאים מפורטים בתקנון.",
        ["המענק הוא 5 מיליון יואן.", "התנאים מפורטים בתקנון."],
    ),
    # Markdown emphasis is kept whole, with its stars
    (
        "**Zhengzhou, 26 October 2019.** The launch took place. It was grand!",
        ["**Zhengzhou, 26 October 2019.** The launch took place.", "It was grand!"],
    ),
    (
        "*Unofficial English translation. In case of discrepancy, the Chinese prevails.*",
        ["*Unofficial English translation. In case of discrepancy, the Chinese prevails.*"],
    ),
]


@pytest.mark.parametrize(("paragraph", "expected"), CASES)
def test_sentences(paragraph: str, expected: list[str]) -> None:
    assert split_sentences(paragraph) == expected


def test_table_rows_stay_whole_with_their_header() -> None:
    chunk = (
        "| Category | Description | Subsidy |\n"
        "| A | Top talent (Nobel laureates, academicians of CAS/CAE, etc.) | RMB 5 million |\n"
        "| B | National-level leading talent | RMB 2 million |\n"
        "The subsidy is paid over 5 years, 20% per year."
    )
    assert [s.text for s in passage_sentences(chunk)] == [
        "Category: A | Description: Top talent (Nobel laureates, academicians of CAS/CAE, etc.) "
        "| Subsidy: RMB 5 million",
        "Category: B | Description: National-level leading talent | Subsidy: RMB 2 million",
        "The subsidy is paid over 5 years, 20% per year.",
    ]


def test_chinese_table_header_in_the_row_and_the_markdown_rule_skipped() -> None:
    chunk = "| 类别 | 说明 | 安家补贴 |\n|---|---|---|\n| A类 | 顶尖人才（两院院士等） | 500万元 |"
    assert [s.text for s in passage_sentences(chunk)] == [
        "类别：A类 | 说明：顶尖人才（两院院士等） | 安家补贴：500万元"
    ]


def test_list_markers_go_and_leading_emphasis_stays() -> None:
    chunk = (
        "1. **Children's schooling**: children of Category A talent are placed in schools; "
        "others get points.\n- Phone: 0371-67981302\n## 3. Support"
    )
    assert [s.text for s in passage_sentences(chunk)] == [
        "**Children's schooling**: children of Category A talent are placed in schools; "
        "others get points.",
        "Phone: 0371-67981302",
    ]
