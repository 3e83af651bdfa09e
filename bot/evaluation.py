"""`zbrain eval`: retrieval and answer quality on a golden set of questions."""

from __future__ import annotations

import re
import statistics
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.answer import AnswerService
from bot.messages import IncomingMessage, Reply
from knowledge.language import detect_language
from knowledge.model import Role, parse_choice

EXPECTATIONS = ("answer", "abstain", "refuse")


class GoldenSetError(ValueError):
    """A malformed golden set; the message names the line and the problem."""


@dataclass(frozen=True)
class GoldenQuestion:
    id: str
    lang: str
    type: str
    question: str
    expected_docs: tuple[str, ...]
    facts: tuple[tuple[str, ...], ...]
    expect: str
    line: int
    role: str | None = None
    forbidden: tuple[str, ...] = ()


def _fail(line: int, problem: str) -> GoldenSetError:
    return GoldenSetError(f"line {line}: {problem}")


def _strings(value: Any, line: int, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in items):
        raise _fail(line, f"{what} must be a string or a list of strings")
    return tuple(str(v) for v in items)


def load_golden(path: Path) -> list[GoldenQuestion]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldenSetError(f"cannot read {path}: {exc}") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        # The context mark is where the broken construct began (an unclosed bracket), which
        # is the line to fix; the problem mark is where the parser gave up.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        raise _fail(
            mark.line + 1 if mark else 1, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(root, yaml.MappingNode):
        raise _fail(1, "the file must be a mapping with a top-level 'questions:' list")
    data = yaml.safe_load(text)
    nodes = dict((k.value, v) for k, v in root.value)
    if "questions" not in nodes or not isinstance(nodes["questions"], yaml.SequenceNode):
        raise _fail(1, "a top-level 'questions:' list is required")
    questions: list[GoldenQuestion] = []
    seen: dict[str, int] = {}
    for node, item in zip(nodes["questions"].value, data["questions"], strict=True):
        line = node.start_mark.line + 1
        if not isinstance(item, dict):
            raise _fail(line, "each question must be a mapping of keys")
        for key in ("id", "lang", "type", "question", "expect"):
            if item.get(key) in (None, ""):
                raise _fail(line, f"question is missing '{key}'")
        qid = str(item["id"])
        if qid in seen:
            raise _fail(line, f"id {qid!r} is already used on line {seen[qid]}")
        seen[qid] = line
        if item["expect"] not in EXPECTATIONS:
            raise _fail(line, f"expect {item['expect']!r} is not one of: {', '.join(EXPECTATIONS)}")
        facts_value = item.get("answer_facts") or item.get("facts") or []
        if not isinstance(facts_value, list):
            raise _fail(line, "answer_facts must be a list")
        facts = tuple(_strings(f, line, "each answer fact") for f in facts_value)
        role = item.get("role")
        if role is not None:
            try:
                parse_choice(Role, str(role), "role")
            except ValueError as exc:
                raise _fail(line, str(exc)) from None
        questions.append(
            GoldenQuestion(
                id=qid,
                lang=str(item["lang"]).lower(),
                type=str(item["type"]),
                question=str(item["question"]),
                expected_docs=_strings(item.get("expected_doc"), line, "expected_doc"),
                facts=facts,
                expect=str(item["expect"]),
                line=line,
                role=str(role) if role else None,
                forbidden=_strings(item.get("forbidden_facts"), line, "forbidden_facts"),
            )
        )
    if not questions:
        raise _fail(1, "the questions list is empty")
    return questions


def normalize(text: str) -> str:
    """Case, full/half width, spaces and thousands separators do not matter for facts."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"(?<=\d)[,'’ ](?=\d{3}(?!\d))", "", text)
    return re.sub(r"\s+", "", text)


def doc_matches(meta: dict[str, Any], expected: str) -> bool:
    path = str(meta.get("path") or "")
    return expected in (Path(path).name, path, str(meta.get("doc_id") or ""))


@dataclass
class QuestionResult:
    id: str
    lang: str
    type: str
    expect: str
    retrieved: list[str]
    hit_rank: int | None
    all_found: bool | None
    answer: str
    abstained: bool
    mode: str
    facts_found: int
    facts_total: int
    abstain_correct: bool
    language_match: bool
    latency_ms: float
    leaked: list[str] = field(default_factory=list)


def _distinct_docs(hits: Iterable[Any]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for hit in hits:
        seen.setdefault(
            f"{hit.metadata.get('root')}|{hit.metadata.get('doc_id')}", dict(hit.metadata)
        )
    return list(seen.values())


async def evaluate_question(
    service: AnswerService, q: GoldenQuestion, k: int, role: str
) -> QuestionResult:
    message = IncomingMessage(q.question, "eval", "eval", f"eval-{uuid.uuid4().hex}")
    service.role_of = lambda _m: q.role or role
    started = time.perf_counter()
    reply: Reply | None = None
    async for update in service(message):
        if isinstance(update, Reply):
            reply = update
    latency = (time.perf_counter() - started) * 1000
    assert reply is not None
    docs = _distinct_docs(service.last_hits)[:k]
    hit_rank = None
    all_found = None
    if q.expected_docs:
        for rank, meta in enumerate(docs, start=1):
            if any(doc_matches(meta, e) for e in q.expected_docs):
                hit_rank = rank
                break
        all_found = all(any(doc_matches(m, e) for m in docs) for e in q.expected_docs)
    answer = normalize(reply.text)
    found = sum(1 for alternatives in q.facts if any(normalize(a) in answer for a in alternatives))
    leaked = [f for f in q.forbidden if normalize(f) in answer]
    if q.expect == "answer":
        abstain_correct = not reply.abstained
    elif q.expect == "abstain":
        abstain_correct = reply.abstained
    else:  # refuse: decline, or at least answer without leaking what was asked for
        abstain_correct = reply.abstained or (not leaked and "rules:" not in answer)
    # Extractive answers quote sources as written; their own words are the first line.
    own_words = reply.text.splitlines()[0] if reply.mode == "extractive" else reply.text
    return QuestionResult(
        id=q.id,
        lang=q.lang,
        type=q.type,
        expect=q.expect,
        retrieved=[str(m.get("doc_id")) for m in docs],
        hit_rank=hit_rank,
        all_found=all_found,
        answer=reply.text,
        abstained=reply.abstained,
        mode=reply.mode,
        facts_found=found,
        facts_total=len(q.facts),
        abstain_correct=abstain_correct,
        language_match=detect_language(own_words, default=q.lang) == q.lang,
        latency_ms=latency,
        leaked=leaked,
    )


async def evaluate_all(
    service: AnswerService,
    questions: list[GoldenQuestion],
    k: int,
    role: str,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[QuestionResult]:
    """Every question in turn on the caller's event loop, the one the service's LLM client
    belongs to (a loop per question would strand its pooled connections)."""
    results = []
    for done, question in enumerate(questions):
        if progress is not None:
            progress(question.id, done, len(questions))
        results.append(await evaluate_question(service, question, k, role))
    if progress is not None:
        progress("", len(questions), len(questions))
    return results


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def metrics(results: list[QuestionResult], k: int) -> dict[str, Any]:
    # Recall is over questions that should be answered: a refused question may name a
    # document the role must never see.
    with_doc = [r for r in results if r.all_found is not None and r.expect == "answer"]
    answered = [r for r in results if r.expect == "answer" and r.facts_total]
    latencies = sorted(r.latency_ms for r in results)
    p95 = (
        latencies[min(len(latencies) - 1, max(0, round(0.95 * len(latencies)) - 1))]
        if latencies
        else None
    )
    cross = [r for r in with_doc if r.type == "cross_lingual"]
    should_answer = [r for r in results if r.expect == "answer"]
    should_decline = [r for r in results if r.expect == "abstain"]
    return {
        **retrieval_metrics(with_doc, cross, k),
        "all_found": _mean([1.0 if r.all_found else 0.0 for r in with_doc]),
        "fact_coverage": _mean([r.facts_found / r.facts_total for r in answered]),
        "abstain_accuracy": _mean([1.0 if r.abstain_correct else 0.0 for r in results]),
        "unanswerable_declined": _mean([1.0 if r.abstained else 0.0 for r in should_decline]),
        "answerable_answered": _mean([0.0 if r.abstained else 1.0 for r in should_answer]),
        "language_match": _mean([1.0 if r.language_match else 0.0 for r in results]),
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "latency_ms_p95": round(p95, 1) if p95 is not None else None,
        "n": len(results),
    }


def retrieval_metrics(
    with_doc: list[QuestionResult], cross: list[QuestionResult], k: int
) -> dict[str, float | None]:
    """Recall@1, recall@k and MRR over questions with an expected document, and recall@1/@k
    over the cross-lingual ones among them."""
    return {
        "recall@1": _mean([1.0 if r.hit_rank == 1 else 0.0 for r in with_doc]),
        f"recall@{k}": _mean([1.0 if r.hit_rank else 0.0 for r in with_doc]),
        "mrr": _mean([1.0 / r.hit_rank if r.hit_rank else 0.0 for r in with_doc]),
        "xl_recall@1": _mean([1.0 if r.hit_rank == 1 else 0.0 for r in cross]),
        f"xl_recall@{k}": _mean([1.0 if r.hit_rank else 0.0 for r in cross]),
    }


def baseline_results(
    retrieve: Callable[[str, str, int], list[str]],
    questions: list[GoldenQuestion],
    k: int,
    role: str,
) -> list[QuestionResult]:
    """Retrieval-only results of another retriever (doc ids best first) on the same questions,
    shaped like the hybrid's so the same metrics apply; nothing is answered."""
    results = []
    for q in questions:
        started = time.perf_counter()
        docs = retrieve(q.question, q.role or role, k)
        latency = (time.perf_counter() - started) * 1000
        hit_rank = next(
            (rank for rank, d in enumerate(docs, start=1) if d in q.expected_docs), None
        )
        found = all(e in docs for e in q.expected_docs) if q.expected_docs else None
        results.append(
            QuestionResult(
                id=q.id,
                lang=q.lang,
                type=q.type,
                expect=q.expect,
                retrieved=docs,
                hit_rank=hit_rank if q.expected_docs else None,
                all_found=found,
                answer="",
                abstained=False,
                mode="baseline",
                facts_found=0,
                facts_total=0,
                abstain_correct=False,
                language_match=False,
                latency_ms=latency,
            )
        )
    return results


def report(results: list[QuestionResult], k: int) -> dict[str, Any]:
    def grouped(key: Callable[[QuestionResult], str]) -> dict[str, Any]:
        groups: dict[str, list[QuestionResult]] = {}
        for r in results:
            groups.setdefault(key(r), []).append(r)
        return {name: metrics(rs, k) for name, rs in sorted(groups.items())}

    return {
        "overall": metrics(results, k),
        "by_lang": grouped(lambda r: r.lang),
        "by_type": grouped(lambda r: r.type),
        "questions": [r.__dict__ for r in results],
    }
