from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation import GoldenSetError, load_golden, normalize
from knowledge.ingest import SAMPLES_DIR
from tests.conftest import run_cli

GOLDEN = """questions:
  - id: rent
    lang: zh
    type: fact
    question: 新落户的研发团队，研发用房可以免租多久？
    expected_doc: rent.md
    answer_facts: [["前两年免租", "two years"], "1000平方米"]
    expect: answer
  - id: weather
    lang: en
    type: unanswerable
    question: Who won the 2022 football World Cup?
    expected_doc: null
    answer_facts: []
    expect: abstain
    comment: unknown keys are ignored
"""


def test_shipped_golden_set_meets_its_brief() -> None:
    questions = load_golden(SAMPLES_DIR.parent / "golden.yaml")
    assert len(questions) >= 80
    assert {q.lang for q in questions} == {"zh", "en", "de", "ko", "he", "fr"}
    assert sum(q.type == "cross_lingual" for q in questions) / len(questions) >= 0.4
    assert sum(q.expect == "abstain" for q in questions) >= 8
    assert sum(q.type == "injection" for q in questions) >= 4


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "questions:\n  - id: a\n    lang: en\n    type: fact\n"
            "    question: q\n    expect: maybe\n",
            "line 2: expect 'maybe' is not one of: answer, abstain, refuse",
        ),
        (
            "questions:\n  - id: a\n    lang: en\n    type: fact\n    expect: answer\n",
            "line 2: question is missing 'question'",
        ),
        ("items: []\n", "line 1: a top-level 'questions:' list is required"),
        ("questions:\n  - id: a\n    question: [unclosed\n", "line 3: not valid YAML"),
    ],
)
def test_malformed_golden_sets_name_the_line(tmp_path: Path, text: str, problem: str) -> None:
    file = tmp_path / "golden.yaml"
    file.write_text(text)
    with pytest.raises(GoldenSetError, match=problem.replace("(", r"\(").replace("[", r"\[")):
        load_golden(file)


def test_fact_normalisation() -> None:
    assert normalize("RMB 1,000,000") == normalize("rmb 1000000")
    assert normalize("５００万元") == normalize("500 万元")


def test_eval_on_a_folder_reports_json_and_leaves_the_index_alone(
    tmp_path: Path, fixture_kb: Path, cli_env: dict[str, str]
) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN, encoding="utf-8")
    out = tmp_path / "report.json"
    # an 80-column default, as in a CI log
    narrow = {**cli_env, "COLUMNS": "80"}
    result = run_cli(
        "eval", str(golden), "--docs", str(fixture_kb), "--k", "3", "--json", str(out), env=narrow
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["overall"]) >= {
        "recall@1",
        "recall@3",
        "mrr",
        "fact_coverage",
        "abstain_accuracy",
        "language_match",
        "latency_ms_p50",
        "latency_ms_p95",
        "n",
    }
    assert report["overall"]["n"] == 2
    assert set(report["by_lang"]) == {"en", "zh"} and set(report["by_type"]) == {
        "fact",
        "unanswerable",
    }
    rent = next(q for q in report["questions"] if q["id"] == "rent")
    assert rent["hit_rank"] == 1 and rent["retrieved"][0] == "fixture-rent"
    assert rent["facts_found"] >= 1, (rent["answer"], rent["abstained"])
    weather = next(q for q in report["questions"] if q["id"] == "weather")
    assert weather["abstained"] is True
    assert "recall@1" in result.stdout
    # piped output (a CI log) shows every heading and figure whole, not cut to "0.…"
    assert "…" not in result.stdout, result.stdout
    assert not Path(cli_env["ZBRAIN_DATA_DIR"], "chroma").exists(), (
        "the user's index is not touched"
    )


def test_eval_of_a_malformed_file_exits_non_zero(tmp_path: Path, cli_env: dict[str, str]) -> None:
    golden = tmp_path / "bad.yaml"
    golden.write_text("questions:\n  - id: a\n    lang: en\n")
    result = run_cli("eval", str(golden), env=cli_env)
    assert result.returncode == 2
    assert "line 2: question is missing 'type'" in result.stderr
