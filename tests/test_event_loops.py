"""One event loop per process: a long-lived LLM client lives and dies on the loop that uses it.

The fake OpenAI server keeps connections alive as the real API does, so a client reused across
`asyncio.run` calls fails here the way it fails in production ("Event loop is closed")."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.llm import LLMClient
from bot.settings import load_settings
from tests.conftest import run_cli
from tests.fake_openai import FakeOpenAI, serve_fake_openai

ASK = [{"role": "user", "content": "hello"}]


def test_the_fake_keeps_one_connection_alive_so_a_second_loop_is_caught() -> None:
    with serve_fake_openai(FakeOpenAI(responder=lambda body: "hi there")) as fake:
        settings = load_settings(
            OPENAI_BASE_URL=fake.base_url,
            OPENAI_API_KEY="k",
            ZBRAIN_LLM_MODEL="m",
            ZBRAIN_LLM_RETRIES=0,
        )
        llm = LLMClient(settings)

        async def on_one_loop() -> list[str]:
            answers = [await llm.complete(ASK) for _ in range(2)]
            answers.append("".join([delta async for delta in llm.stream(ASK)]))
            return answers

        assert asyncio.run(on_one_loop()) == ["hi there"] * 3
        assert fake.connections == 1, "replies and streams share one kept-alive connection"
        # The bug the fake exists to catch: the pooled connection belongs to a closed loop.
        with pytest.raises(RuntimeError, match="Event loop is closed"):
            asyncio.run(llm.complete(ASK))


GOLDEN = """questions:
  - id: rent
    lang: zh
    type: fact
    question: 新落户的研发团队，研发用房可以免租多久？
    expected_doc: rent.md
    answer_facts: ["前两年免租"]
    expect: answer
  - id: talent
    lang: en
    type: fact
    question: How much is the housing subsidy for top talent?
    expected_doc: talent.md
    answer_facts: []
    expect: answer
  - id: rent-de
    lang: de
    type: cross_lingual
    question: Wie lange ist die Miete für Forschungsflächen frei?
    expected_doc: rent.md
    answer_facts: []
    expect: answer
"""


def _model(body: dict[str, Any]) -> str:
    prompt = body["messages"][-1]["content"]
    if prompt.startswith("Translate this search query"):
        return "zh: 研发用房免租\nen: lab rent relief"
    return "前两年免租 [1]."


def test_eval_asks_the_model_every_question_on_one_loop(
    tmp_path: Path, fixture_kb: Path, cli_env: dict[str, str]
) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN, encoding="utf-8")
    report_file = tmp_path / "report.json"
    with serve_fake_openai(FakeOpenAI(responder=_model)) as fake:
        env = {
            **cli_env,
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "sk-test",
            "ZBRAIN_LLM_MODEL": "fake-chat",
            "ZBRAIN_LLM_RETRIES": "0",
        }
        result = run_cli(
            "eval", str(golden), "--docs", str(fixture_kb), "--json", str(report_file), env=env
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Event loop is closed" not in output and "RuntimeError" not in output
    questions = json.loads(report_file.read_text(encoding="utf-8"))["questions"]
    assert len(questions) == 3
    answered = [q for q in questions if not q["abstained"]]
    assert answered and all(q["mode"] == "llm" for q in answered), questions
    # Every question went to the model, over the connection the first one opened.
    assert len(fake.prompts_containing("<sources>")) == len(answered)
    assert fake.connections == 1
