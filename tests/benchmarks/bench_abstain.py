"""Abstention on the sample knowledge base in extractive mode (no LLM).

Run from the repository root: python -m tests.benchmarks.bench_abstain
Results are recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from bot.answer import AnswerService
from bot.divisions import load_divisions
from bot.messages import IncomingMessage, Reply
from bot.services import Services
from bot.settings import load_settings
from knowledge.ingest import SAMPLES_DIR

ANSWERABLE = [
    "How much can a startup get from the AI computing power voucher?",
    "What support is there for chip tape-out and MPW costs?",
    "How much rent relief can a lab get?",
    "Welche Förderung gibt es für den Bau von Wasserstofftankstellen?",
    "Zuschuss für internationale PCT-Patentanmeldungen",
    "임상시험 비용은 얼마나 지원받을 수 있나요?",
    "인재 아파트 임대료는 얼마입니까?",
    "Quelle aide pour les essais cliniques ?",
    "研发用房租金怎么减免？",
    "顶尖人才安家补贴多少钱？",
    "当时有几个海外节点？",
    "Which overseas nodes does the innovation system have?",
    "Wie viele Hidden Champions gibt es in Deutschland?",
    "孵化器毕业企业有什么奖励？",
]
OUT_OF_SCOPE = [
    "What is the weather in Paris tomorrow?",
    "Who won the 2022 football World Cup?",
    "How do I renew my US passport?",
    "Wie viel kostet ein Bier auf dem Oktoberfest?",
    "이스라엘 노드의 골프장 회원권 보조금은 얼마입니까?",
    "郑州明天的天气怎么样？",
    "推荐一家郑州好吃的火锅店",
    "Quelle est la capitale de l'Australie ?",
    "מה המתכון לחומוס?",
    "高新区对游艇俱乐部有什么补贴？",
    "Is there a subsidy for opening a restaurant in the zone?",
    "Recommend a good movie for tonight",
]


async def _abstained(service: AnswerService, question: str) -> bool:
    message = IncomingMessage(question, "bench", "bench", uuid.uuid4().hex)
    final = [u async for u in service(message)][-1]
    assert isinstance(final, Reply)
    return final.abstained


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(load_settings(ZBRAIN_DATA_DIR=str(Path(tmp) / "d")))
        services.ingestor().ingest([SAMPLES_DIR])
        service = AnswerService(services, divisions=load_divisions(), role_of=lambda m: "guest")
        answered = [not asyncio.run(_abstained(service, q)) for q in ANSWERABLE]
        declined = [asyncio.run(_abstained(service, q)) for q in OUT_OF_SCOPE]
        for question, ok in zip(ANSWERABLE, answered, strict=True):
            print("answered " if ok else "ABSTAINED", question)
        for question, ok in zip(OUT_OF_SCOPE, declined, strict=True):
            print("declined " if ok else "ANSWERED ", question)
        total = (sum(answered) + sum(declined)) / (len(answered) + len(declined))
        print(
            f"\nanswerable answered {sum(answered)}/{len(answered)}, "
            f"out-of-scope declined {sum(declined)}/{len(declined)}, accuracy {total:.2f}"
        )


if __name__ == "__main__":
    main()
