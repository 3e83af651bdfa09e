from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.conftest import run_cli


def test_ask_json(sample_services, samples_env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("ask", "顶尖人才安家补贴多少钱？", "--as", "guest", "--json", env=samples_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"answer", "language", "mode", "abstained", "reply_id", "citations"}
    assert data["reply_id"].startswith("R-")
    assert data["language"] == "zh" and data["mode"] == "extractive" and not data["abstained"]
    assert data["citations"][0]["number"] == 1
    assert {"title", "kind", "date", "url", "visibility"} <= set(data["citations"][0])
    # The samples have no public links: no citation shows where the file lies on the server.
    assert all(c["url"] is None for c in data["citations"])
    assert "/" not in data["answer"].split("\n")[0]
    # The terminal's exchanges are recorded like any platform's.
    audit = run_cli("audit", "--json", env=samples_env)
    assert audit.returncode == 0, audit.stderr
    [recorded] = [e for e in json.loads(audit.stdout) if e["reply_id"] == data["reply_id"]]
    assert recorded["user"].startswith("cli:") and recorded["role"] == "guest"
    assert recorded["question"] == "顶尖人才安家补贴多少钱？" and recorded["doc_ids"]


def test_ask_lang_option_overrides_detection_and_is_checked(sample_services, samples_env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("ask", "顶尖人才安家补贴多少钱？", "--lang", "de", "--json", env=samples_env)
    assert json.loads(result.stdout)["answer"].startswith("Auszüge aus der Wissensdatenbank")
    bad = run_cli("ask", "x", "--lang", "xx", env=samples_env)
    assert bad.returncode == 2 and "--lang 'xx' is not one of" in bad.stderr


def test_chat_transcript_keeps_context(sample_services, samples_env) -> None:  # type: ignore[no-untyped-def]
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZBRAIN_", "DATABASE_URL"))}
    env.update(samples_env)
    transcript = "研发用房租金怎么减免？\n申报材料呢？\n郑州明天的天气怎么样？\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--as", "guest"],
        input=transcript,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    turns = re.split(r"(?:^|\n)> ", out)
    assert len(turns) == 5  # three answers, then the prompt /quit answered
    first, second, third = turns[1:4]
    assert "以下为知识库原文摘录" in first and "来源:" in first
    # "申报材料呢？" alone is vague; read with the previous question it finds the lab-rent rules.
    assert "研发用房" in second and "来源:" in second
    assert "知识库中没有找到" in third
