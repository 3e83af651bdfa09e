"""Cross-lingual ranking (two embedding views combined by z-score, language-bias correction,
document-level aggregation), time-aware retrieval and follow-ups that keep their topic — on
tiny hand-made vectors and fake embedders, so each rule is checked alone and fast."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.answer import other_period_note
from bot.citations import Passage
from bot.followups import TopicMemory, is_follow_up, topic_question
from knowledge.glossary import cached_glossary
from retrieval import views
from retrieval.index import Hit
from retrieval.periods import asked_period, document_period
from retrieval.search import search
from retrieval.vectors import VectorMatrix
from retrieval.views import combine, fit_projection, query_covered, zscore

DIM = 8
# Axes of the toy embedding space: topics, then a language component each view adds.
HYDROGEN, TALENT, RENT, NOISE, ZH, EN, HE, SPARE = range(DIM)


def unit(*weights: tuple[int, float]) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    for axis, w in weights:
        v[axis] = w
    return v / np.linalg.norm(v)


class FakeEmbedder:
    """Maps known texts to given vectors; anything else to a neutral vector."""

    def __init__(self, model_id: str, table: dict[str, np.ndarray]) -> None:
        self.model_id = model_id
        self.table = table

    @property
    def dim(self) -> int:
        return DIM

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, DIM))

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def _vector(self, text: str) -> np.ndarray:
        for key, vector in self.table.items():
            if key in text:
                return vector
        return unit((SPARE, 1.0))

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class FakeIndex:
    """What VectorMatrix and search read of Chroma, over a list of chunks."""

    name = "fake"

    def __init__(self, chunks: list[tuple[str, dict[str, Any], str, np.ndarray]]) -> None:
        self.chunks = chunks
        self.embedder = FakeEmbedder("fake-primary", {})

    def recent_count(self) -> int:
        return len(self.chunks)

    def iter_chunks(self) -> Iterator[tuple[str, dict[str, Any], str, np.ndarray]]:
        yield from self.chunks

    def iter_embeddings(self) -> Iterator[tuple[str, dict[str, Any], np.ndarray]]:
        for cid, meta, _, vector in self.chunks:
            yield cid, meta, vector

    def get_documents(self, ids: Sequence[str]) -> list[tuple[str, dict[str, Any], str]]:
        by_id = {cid: (cid, meta, text) for cid, meta, text, _ in self.chunks}
        return [by_id[i] for i in ids if i in by_id]


def chunk(
    cid: str, doc: str, language: str, vector: np.ndarray, **meta: Any
) -> tuple[str, dict[str, Any], str, np.ndarray]:
    metadata = {
        "doc_id": doc,
        "root": "r",
        "visibility": "public",
        "language": language,
        "title": meta.pop("title", doc),
        "expires_ymd": 99991231,
        **meta,
    }
    return (cid, metadata, f"text of {cid}", vector)


def matrix(tmp_path: Path, chunks: list, second: FakeEmbedder | None = None) -> VectorMatrix:
    return VectorMatrix(tmp_path / "vectors", FakeIndex(chunks), second)  # type: ignore[arg-type]


PUBLIC = {"visibility": {"public"}}


# -- combining the views ---------------------------------------------------------------------
def test_zscore_standardises_only_the_kept_rows() -> None:
    scores = np.array([1.0, 2.0, 3.0, 100.0])
    keep = np.array([True, True, True, False])
    z = zscore(scores, keep)
    assert z[:3].mean() == pytest.approx(0.0)
    assert z[:3].std() == pytest.approx(1.0)
    assert zscore(np.ones(3), np.ones(3, dtype=bool)).tolist() == [0.0, 0.0, 0.0]


def test_second_view_lifts_what_it_sees_and_leaves_uncovered_rows_to_the_first() -> None:
    primary = np.array([0.9, 0.5, 0.1, 0.5, 0.7])
    second = np.array([0.1, 0.9, 0.1, 0.9, 0.0])
    keep = np.array([True, True, True, True, False])
    covered = np.array([True, True, True, False, True])  # row 3 is Hebrew
    combined = combine(primary, second, keep, covered)
    # Row 1: middling for the first view, best for the second: now above row 0.
    assert combined[1] > combined[0]
    # Row 3 ties row 1 on the first view; the second view cannot speak for it.
    assert combined[3] == pytest.approx(zscore(primary, keep)[3])
    assert combined[4] == -np.inf
    # Without a second view the order is the first view's.
    alone = combine(primary, None, keep, None)
    assert list(np.argsort(-alone)[:4]) == list(np.argsort(-np.where(keep, primary, -9))[:4])


def test_hebrew_questions_are_not_read_by_the_second_view() -> None:
    assert not query_covered("מה גובה הסבסוד לתחנות מימן?")
    assert query_covered("Förderung für Wasserstofftankstellen?")
    assert query_covered("加氢站补贴多少？")
    assert not query_covered("anything", language="he")
    assert query_covered("anything", language="ko")


# -- Hebrew in the second view: mapped from the first --------------------------------------------
def test_the_map_from_the_first_view_to_the_second_carries_to_unseen_rows() -> None:
    rng = np.random.default_rng(7)
    hidden = rng.normal(size=(16, 12))
    primary = rng.normal(size=(200, 16))
    second = primary @ hidden
    fitted = np.arange(200) < 150
    projection = fit_projection(primary, second, fitted)
    assert projection is not None
    mapped = projection(primary[~fitted])
    truth = second[~fitted] / np.linalg.norm(second[~fitted], axis=1, keepdims=True)
    assert np.einsum("ij,ij->i", mapped, truth).min() > 0.95
    # Too few pairs to fit a map: none is made.
    assert fit_projection(primary, second, np.arange(200) < 5) is None


def test_a_large_index_fits_its_map_on_an_even_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    primary = rng.normal(size=(300, 16))
    second = primary @ rng.normal(size=(16, 12))
    monkeypatch.setattr(views, "PROJECTION_MAX_ROWS", 60)
    sampled = fit_projection(primary, second, np.ones(300, dtype=bool))
    assert sampled is not None
    truth = second / np.linalg.norm(second, axis=1, keepdims=True)
    assert np.einsum("ij,ij->i", sampled(primary), truth).min() > 0.95


def hebrew_corpus() -> tuple[list, FakeEmbedder]:
    """English and Chinese chunks whose second view holds their topic without their language,
    one Hebrew hydrogen chunk (whose second view, like USE's of Hebrew, is noise) and an
    English talent chunk that the first view prefers for its language."""
    rng = np.random.default_rng(3)
    chunks = []
    second: dict[str, np.ndarray] = {}
    for i in range(24):
        lang, axis = (("en", EN), ("zh", ZH))[i % 2]
        # Hydrogen is never these chunks' main topic, only a part of it.
        weights = rng.random(4) * (0.4, 1.0, 1.0, 1.0)
        topics = [
            (t, float(w)) for t, w in zip((HYDROGEN, TALENT, RENT, NOISE), weights, strict=True)
        ]
        cid = f"{lang}-{i:02d}"
        chunks.append(chunk(cid, cid, lang, unit((axis, 0.6), *topics)))
        second[f"text of {cid}"] = unit(*topics)
    chunks.append(chunk("he-h2", "he-hydrogen", "he", unit((HE, 0.6), (HYDROGEN, 1.0))))
    second["text of he-h2"] = unit((SPARE, 1.0))
    chunks.append(chunk("en-talent", "en-talent", "en", unit((EN, 0.6), (TALENT, 1.0))))
    second["text of en-talent"] = unit((TALENT, 1.0))
    return chunks, FakeEmbedder("fake-second", second)


def test_an_english_question_finds_the_hebrew_passage_through_the_mapped_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks, second = hebrew_corpus()
    question = unit((EN, 1.0), (HYDROGEN, 0.4))
    in_second_view = unit((HYDROGEN, 1.0))
    vectors = matrix(tmp_path / "mapped", chunks, second)
    found = vectors.search(question, 3, PUBLIC, None, in_second_view)
    assert found[0].chunk_id == "he-h2"
    state = vectors.state()
    assert state.second_covered is not None and state.second_covered.all()
    # A Hebrew question gets its second-view vector the same way.
    hebrew_question = vectors.second_query(unit((HE, 1.0), (HYDROGEN, 0.5)))
    assert hebrew_question is not None and int(np.argmax(hebrew_question)) == HYDROGEN
    # Without the map (too few chunks to fit it) the Hebrew passage has the first view alone,
    # which prefers English.
    monkeypatch.setattr(views, "PROJECTION_MIN_ROWS", 1000)
    alone = matrix(tmp_path / "alone", chunks, second)
    assert alone.search(question, 3, PUBLIC, None, in_second_view)[0].chunk_id != "he-h2"
    assert alone.second_query(question) is None


# -- language-bias correction on a language trap -----------------------------------------------
def trap_corpus() -> tuple[list, FakeEmbedder, FakeEmbedder]:
    """An English overview that mentions everything a little, a Chinese hydrogen policy, and
    filler in both languages. In the second view English text carries a strong English
    component, as multilingual encoders do."""
    chunks = []
    second: dict[str, np.ndarray] = {}
    chunks.append(chunk("overview", "en-overview", "en", unit((EN, 1.0), (HYDROGEN, 0.3))))
    second["text of overview"] = unit((EN, 1.0), (HYDROGEN, 0.35), (TALENT, 0.3))
    chunks.append(chunk("h2", "zh-hydrogen", "zh", unit((ZH, 1.0), (HYDROGEN, 0.9))))
    second["text of h2"] = unit((ZH, 1.0), (HYDROGEN, 0.9))
    for i in range(12):
        for lang, axis in (("en", EN), ("zh", ZH)):
            cid = f"{lang}-filler-{i:02d}"
            chunks.append(chunk(cid, cid, lang, unit((axis, 1.0), (NOISE, 0.5 + i / 30))))
            second[f"text of {cid}"] = unit((axis, 1.0), (NOISE, 0.5 + i / 30), (RENT, 0.2))
    question = "How much is the hydrogen station subsidy?"
    query_second = unit((HYDROGEN, 1.0), (EN, 1.2))
    return (
        chunks,
        FakeEmbedder("fake-second", {**second, question: query_second}),
        FakeEmbedder("fake-primary", {question: unit((HYDROGEN, 1.0), (EN, 0.6))}),
    )


def test_the_english_overview_does_not_win_for_being_english(tmp_path: Path) -> None:
    chunks, second, primary = trap_corpus()
    question = "How much is the hydrogen station subsidy?"
    vectors = matrix(tmp_path, chunks, second)
    # Calibrate the first view the way LanguageCalibration does: the per-language mean.
    centroids = {
        lang: np.mean([c[3] for c in chunks if c[1]["language"] == lang], axis=0)
        for lang in ("en", "zh")
    }
    raw = vectors.search(primary.embed_query(question), 3, PUBLIC, None, None)
    assert raw[0].chunk_id == "overview"  # the trap springs without any correction
    both = vectors.search(
        primary.embed_query(question), 3, PUBLIC, centroids, second.embed_query(question)
    )
    assert both[0].chunk_id == "h2"
    # The second view alone is corrected as well: its English pull is taken out.
    state = vectors.state()
    assert state.second is not None and state.second_centroids is not None


def test_second_view_vectors_are_saved_and_reloaded(tmp_path: Path) -> None:
    chunks, second, _ = trap_corpus()
    built = matrix(tmp_path, chunks, second)
    built.rebuild()
    reread = matrix(tmp_path, chunks, second)
    state = reread.state()
    assert state.second is not None
    assert np.allclose(state.second, built.state().second)  # type: ignore[arg-type]
    # A copy built without the second view is not taken for one with it.
    matrix(tmp_path, chunks, None).rebuild()
    assert matrix(tmp_path, chunks, second).state().second is not None


# -- document-level aggregation and the shown score ---------------------------------------------
def test_a_document_that_answers_twice_outranks_one_stray_chunk(tmp_path: Path) -> None:
    q = unit((HYDROGEN, 1.0))
    chunks = [
        chunk("stray", "other", "en", unit((HYDROGEN, 1.0), (NOISE, 0.62))),
        chunk("a1", "policy", "en", unit((HYDROGEN, 1.0), (NOISE, 0.66))),
        chunk("a2", "policy", "en", unit((HYDROGEN, 1.0), (NOISE, 0.7))),
        *[chunk(f"f{i}", f"f{i}", "en", unit((NOISE, 1.0), (TALENT, i / 5))) for i in range(8)],
    ]
    index = FakeIndex(chunks)
    vectors = VectorMatrix(tmp_path / "v", index)  # type: ignore[arg-type]
    embedder = FakeEmbedder("fake-primary", {"hydrogen": q})
    hits = search(index, vectors, embedder, "hydrogen", role="guest", k=4, mode="dense")  # type: ignore[arg-type]
    assert hits[0].metadata["doc_id"] == "policy"
    # What is printed as the score follows the ranking.
    shown = [h.rank_score for h in hits]
    assert shown == sorted(shown, reverse=True)


def test_a_clear_best_chunk_is_not_buried_by_a_weaker_document_with_two(tmp_path: Path) -> None:
    """Document support is weighed on the dense scores. When a second ranking (here the year
    asked for) is fused in, its share of a reciprocal rank used to be worth many places, and a
    two-chunk document of middling match overtook the one chunk that answers."""
    q = unit((HYDROGEN, 1.0))
    title = "2025 policy"
    chunks = [
        chunk("best", "answer", "en", unit((HYDROGEN, 1.0), (NOISE, 0.3)), title=title),
        chunk("b1", "pair", "en", unit((HYDROGEN, 1.0), (NOISE, 0.9)), title=title),
        chunk("b2", "pair", "en", unit((HYDROGEN, 1.0), (NOISE, 0.95)), title=title),
        *[
            chunk(f"f{i}", f"f{i}", "en", unit((NOISE, 1.0), (TALENT, i / 5)), title=title)
            for i in range(8)
        ],
    ]
    index = FakeIndex(chunks)
    vectors = VectorMatrix(tmp_path / "v", index)  # type: ignore[arg-type]
    embedder = FakeEmbedder("fake-primary", {"hydrogen": q})
    hits = search(index, vectors, embedder, "hydrogen in 2025", role="guest", k=3, mode="dense")  # type: ignore[arg-type]
    assert hits[0].metadata["doc_id"] == "answer"


# -- time-aware retrieval ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "label"),
    [
        ("慕尼黑节点2019年第四季度推送了多少条线索？", "2019 Q4"),
        ("How many leads in Q4 2019?", "2019 Q4"),
        ("Wie viele Leads im 4. Quartal 2019?", "2019 Q4"),
        ("2019년 4분기 리드는 몇 건인가요?", "2019 Q4"),
        ("כמה לידים ברבעון הרביעי של 2019?", "2019 Q4"),
        ("Combien de leads au 4e trimestre 2019 ?", "2019 Q4"),
        ("Was gilt im Jahr 2027?", "2027"),
        ("What about 2027?", "2027"),
    ],
)
def test_the_period_asked_for_is_read_in_six_languages(question: str, label: str) -> None:
    period = asked_period(question)
    assert period is not None and period.label == label


@pytest.mark.parametrize(
    "question",
    ["郑高管〔2025〕5号有什么规定？", "补贴2000万元吗？", "Is it 2000 euro?", "加氢站补贴？"],
)
def test_amounts_and_document_numbers_are_not_periods(question: str) -> None:
    assert asked_period(question) is None


def test_what_period_a_document_covers() -> None:
    report = document_period(
        {"title": "Knoten München – Quartalsbericht Q4 2019", "published": "2019-12-20"}
    )
    assert report is not None and report.label == "2019 Q4"
    policy = document_period(
        {"title": "氢能措施", "effective_from": "2025-07-01", "expires": "2027-12-31"}
    )
    assert policy is not None and policy.overlaps(asked_period("2027年"))  # type: ignore[arg-type]
    assert not policy.overlaps(asked_period("2019年"))  # type: ignore[arg-type]
    bulletin = document_period({"title": "summary", "period": 2022, "published": "2023-02-28"})
    assert bulletin is not None and bulletin.label == "2022"
    assert document_period({"title": "no dates"}) is None


def test_a_question_naming_a_quarter_prefers_that_quarters_report(tmp_path: Path) -> None:
    same = unit((TALENT, 1.0))
    chunks = [
        chunk(
            "new",
            "munich-2026",
            "zh",
            unit((TALENT, 1.0), (NOISE, 0.10)),
            title="慕尼黑节点 2026年第三季度报告",
        ),
        chunk(
            "old",
            "munich-2019",
            "zh",
            unit((TALENT, 1.0), (NOISE, 0.12)),
            title="慕尼黑节点 2019年第四季度报告",
        ),
        *[chunk(f"f{i}", f"f{i}", "zh", unit((NOISE, 1.0), (RENT, i / 5))) for i in range(6)],
    ]
    index = FakeIndex(chunks)
    vectors = VectorMatrix(tmp_path / "v", index)  # type: ignore[arg-type]
    embedder = FakeEmbedder("fake-primary", {"慕尼黑": same})
    top = lambda q: search(index, vectors, embedder, q, role="guest", k=2, mode="dense")[0]  # noqa: E731
    assert top("慕尼黑节点推送了多少条线索？").metadata["doc_id"] == "munich-2026"
    assert top("慕尼黑节点2019年第四季度推送了多少条线索？").metadata["doc_id"] == "munich-2019"


@pytest.mark.parametrize("language", ["zh", "en", "de", "ko", "he", "fr"])
def test_the_answer_says_when_its_sources_are_of_another_period(language: str) -> None:
    hit = Hit("c", "t", 0.5, {"title": "Munich report Q3 2026", "doc_id": "r"})
    note = other_period_note(asked_period("Q4 2019"), [Passage(1, hit)], language)
    assert "2019 Q4" in note and "2026 Q3" in note
    covered = Hit("c", "t", 0.5, {"title": "Munich report Q4 2019", "doc_id": "r"})
    assert other_period_note(asked_period("Q4 2019"), [Passage(1, covered)], language) == ""
    assert other_period_note(None, [Passage(1, hit)], language) == ""


# -- follow-ups keep the topic ----------------------------------------------------------------
CHAINS = {
    "de": [
        "Förderung für Wasserstofftankstellen?",
        "Und der Betriebszuschuss?",
        "Was ist mit 2027?",
        "Wen kann ich kontaktieren?",
    ],
    "en": [
        "What is the subsidy for hydrogen refuelling stations?",
        "And the operating subsidy?",
        "What about 2027?",
        "Who do I contact?",
    ],
    "zh": ["加氢站有什么补贴？", "那运营补贴呢？", "那2027年呢？", "找谁咨询？"],
    "ko": [
        "수소충전소 보조금은 얼마인가요?",
        "그럼 운영 보조금은요?",
        "그럼 2027년은요?",
        "누구에게 문의하나요?",
    ],
    "he": [
        "מה הסבסוד לתחנות תדלוק מימן?",
        "ומה לגבי סבסוד ההפעלה?",
        "ומה לגבי 2027?",
        "ומי איש הקשר?",
    ],
    "fr": [
        "Quelle subvention pour les stations hydrogène ?",
        "Et la subvention à l'exploitation ?",
        "Et pour 2027 ?",
        "Qui dois-je contacter ?",
    ],
}


@pytest.mark.parametrize("language", sorted(CHAINS))
def test_a_chain_of_follow_ups_keeps_the_first_questions_topic(language: str) -> None:
    glossary = cached_glossary()
    first, *follow_ups = CHAINS[language]
    assert not is_follow_up(first, glossary)
    asked = [first]
    for question in follow_ups:
        assert is_follow_up(question, glossary), question
        standalone = topic_question(question, asked, glossary)
        assert standalone.startswith(first) and standalone.endswith(question)
        asked.append(question)


def test_and_what_about_endings_continue_the_topic_even_naming_a_term() -> None:
    glossary = cached_glossary()
    earlier = ["研发用房租金怎么减免？"]
    # 申报材料 is a glossary term, yet "…呢？" asks it of the previous subject.
    standalone = topic_question("申报材料呢？", earlier, glossary)
    assert standalone == "研发用房租金怎么减免？ 申报材料呢？"
    assert is_follow_up("신청 서류는요?", glossary)
    # A question naming a place has a subject of its own, park term or not.
    assert topic_question("郑州明天的天气怎么样？", earlier, glossary) == "郑州明天的天气怎么样？"


def test_a_new_topic_and_a_long_question_stand_alone() -> None:
    glossary = cached_glossary()
    earlier = ["Förderung für Wasserstofftankstellen?"]
    assert topic_question("人才公寓租金怎么算？", earlier, glossary) == "人才公寓租金怎么算？"
    long = "Which documents describe the rules for renting laboratory space in the zone in detail?"
    assert topic_question(long, earlier, glossary) == long
    assert (
        topic_question("And the operating subsidy?", [], glossary) == "And the operating subsidy?"
    )


def test_a_follow_up_period_replaces_the_topic_questions() -> None:
    glossary = cached_glossary()
    standalone = topic_question("What about 2027?", ["Hydrogen station subsidy in 2025?"], glossary)
    period = asked_period(standalone)
    assert period is not None and period.label == "2027"


def test_topic_memory_is_per_conversation_and_bounded() -> None:
    memory = TopicMemory(kept=2)
    memory.remember(("t", "a"), ["hydrogen"])
    memory.remember(("t", "b"), ["talent"])
    memory.remember(("t", "c"), ["rent"])
    assert memory.documents(("t", "a")) == []
    assert memory.documents(("t", "c")) == ["rent"]
    memory.remember(("t", "c"), [])  # an answer with nothing retrieved keeps the topic
    assert memory.documents(("t", "c")) == ["rent"]


def test_a_follow_up_prefers_the_previous_questions_documents(tmp_path: Path) -> None:
    same = unit((RENT, 1.0))
    chunks = [
        chunk("talent", "talent-policy", "en", unit((RENT, 1.0), (NOISE, 0.10))),
        chunk("h2", "hydrogen-policy", "en", unit((RENT, 1.0), (NOISE, 0.13))),
        *[chunk(f"f{i}", f"f{i}", "en", unit((NOISE, 1.0), (TALENT, i / 5))) for i in range(6)],
    ]
    index = FakeIndex(chunks)
    vectors = VectorMatrix(tmp_path / "v", index)  # type: ignore[arg-type]
    embedder = FakeEmbedder("fake-primary", {"contact": same})

    def ask(**options: Any) -> list[Hit]:
        question = "Who do I contact?"
        return search(
            index, vectors, embedder, question, role="guest", k=2, mode="dense", **options
        )  # type: ignore[arg-type]

    assert ask()[0].metadata["doc_id"] == "talent-policy"
    assert ask(prefer_documents=["hydrogen-policy"])[0].metadata["doc_id"] == "hydrogen-policy"


def test_the_second_view_s_tokenizer_is_parsed_once_per_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval import views

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = views._cached_tokenizer()
    cached = list((tmp_path / "zbrain").glob("usem3-*-tokenizer.pickle"))
    assert first is not None and len(cached) == 1
    again = views._cached_tokenizer()
    assert again is not None and again is not first  # read back from the file
    text = "加氢站补贴 hydrogen station subsidy"
    assert again.encode(text) == first.encode(text)
    cached[0].write_bytes(b"not a pickle")  # a damaged cache is parsed and written again
    assert views._cached_tokenizer() is not None
    assert cached[0].read_bytes() != b"not a pickle"
