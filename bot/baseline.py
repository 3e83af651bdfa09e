"""The naive retrieval baseline `zbrain eval --corpus` measures beside the hybrid search:
LangChain's RecursiveCharacterTextSplitter (500 characters, 50 overlap) and plain cosine search
with the same embedder, over the same documents and the same role's visibility, ranked by
document (a document's rank is that of its best chunk)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge.ingest import FOLDER_DEFAULTS_FILE
from knowledge.loaders import LoadError, load_markdown
from retrieval.embeddings import Embedder
from retrieval.filters import role_levels

CHUNK_CHARS = 500
OVERLAP_CHARS = 50
CHUNKS_PER_QUESTION = 50  # deep enough that k distinct documents are found


@dataclass(frozen=True)
class NaiveChunk:
    doc_id: str
    visibility: str
    text: str


def _visibility(path: Path, root: Path, given: object) -> str:
    if given:
        return str(given)
    for folder in [path.parent, *path.parent.parents]:
        defaults = folder / FOLDER_DEFAULTS_FILE
        if defaults.is_file():
            data = yaml.safe_load(defaults.read_text(encoding="utf-8")) or {}
            if data.get("visibility"):
                return str(data["visibility"])
        if folder == root:
            break
    return "internal"


def naive_chunks(folders: Iterable[Path]) -> list[NaiveChunk]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_CHARS, chunk_overlap=OVERLAP_CHARS)
    chunks = []
    for root in folders:
        for path in sorted(root.rglob("*.md")):
            try:
                raw = load_markdown(path)
            except LoadError:
                continue
            doc_id = str(raw.metadata.get("id") or path.relative_to(root).as_posix())
            visibility = _visibility(path, root, raw.metadata.get("visibility"))
            chunks += [NaiveChunk(doc_id, visibility, t) for t in splitter.split_text(raw.text)]
    return chunks


class NaiveRetriever:
    def __init__(self, chunks: Sequence[NaiveChunk], embedder: Embedder) -> None:
        self.chunks = list(chunks)
        self.embedder = embedder
        self.vectors = np.asarray(embedder.embed_passages([c.text for c in self.chunks]))

    def documents(self, question: str, role: str, k: int) -> list[str]:
        """The k best documents the role may see, best first."""
        levels = {str(level) for level in role_levels(role)}
        allowed = np.array([c.visibility in levels for c in self.chunks], dtype=bool)
        scores = self.vectors @ np.asarray(self.embedder.embed_query(question))
        scores[~allowed] = -np.inf
        found: list[str] = []
        for row in np.argsort(-scores)[:CHUNKS_PER_QUESTION]:
            if not allowed[row]:
                break
            doc_id = self.chunks[int(row)].doc_id
            if doc_id not in found:
                found.append(doc_id)
            if len(found) == k:
                break
        return found
