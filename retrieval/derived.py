"""In-process copies of the Chroma collection that search needs to be fast (BM25, the vector
matrix), and the filter columns they share.

Each copy is persisted in the data dir and rebuilt from Chroma after every ingest that changed
something. A process notices another process's rebuild by the stamp written with it, and
rebuilds itself when the copy's size no longer matches Chroma's (an interrupted ingest), so the
copies never drift from the collection they mirror.
"""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from retrieval.index import ChromaIndex

CATEGORIES = ("visibility", "kind", "node", "language", "chunk_language", "doc_id", "root")
DATES = ("expires_ymd", "published_ymd")
_MASK_CACHE = 64  # distinct role and filter combinations kept; the common ones are few


class ChunkColumns:
    """The filterable metadata of every chunk as integer columns, so a role and filter mask
    over 100k chunks is a few vectorised comparisons instead of a Python loop per chunk."""

    def __init__(
        self,
        categories: Mapping[str, list[Any]],
        dates: Mapping[str, list[Any]],
        sectors: list[list[str]],
    ) -> None:
        self.size = len(sectors)
        self._masks: dict[tuple[Any, ...], np.ndarray] = {}
        self._raw = {"categories": dict(categories), "dates": dict(dates), "sectors": sectors}
        self.vocab: dict[str, dict[Any, int]] = {}
        self.codes: dict[str, np.ndarray] = {}
        for name in CATEGORIES:
            values = categories.get(name) or [None] * self.size
            vocab: dict[Any, int] = {}
            self.codes[name] = np.fromiter(
                (vocab.setdefault(v, len(vocab)) for v in values), dtype=np.int32, count=self.size
            )
            self.vocab[name] = vocab
        self.dates = {
            name: np.array(
                [v if isinstance(v, int) else -1 for v in dates.get(name) or [None] * self.size],
                dtype=np.int64,
            )
            for name in DATES
        }
        self.sector_rows: dict[str, np.ndarray] = {}
        rows: dict[str, list[int]] = {}
        for row, chunk_sectors in enumerate(sectors):
            for sector in chunk_sectors:
                rows.setdefault(sector, []).append(row)
        self.sector_rows = {s: np.array(r, dtype=np.int64) for s, r in rows.items()}

    @classmethod
    def from_metadata(cls, metadatas: Iterable[Mapping[str, Any]]) -> ChunkColumns:
        categories: dict[str, list[Any]] = {name: [] for name in CATEGORIES}
        dates: dict[str, list[Any]] = {name: [] for name in DATES}
        sectors: list[list[str]] = []
        for meta in metadatas:
            for name in CATEGORIES:
                categories[name].append(meta.get(name))
            # A chunk without its own language tag is in its document's language.
            categories["chunk_language"][-1] = str(
                meta.get("chunk_language") or meta.get("language") or "und"
            )
            for name in DATES:
                dates[name].append(meta.get(name))
            sectors.append([str(s) for s in meta.get("sectors") or []])
        return cls(categories, dates, sectors)

    def to_json(self) -> dict[str, Any]:
        return self._raw

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChunkColumns:
        return cls(data["categories"], data["dates"], data["sectors"])

    def category(self, name: str, row: int) -> Any:
        return self._raw["categories"][name][row]

    def mask(self, allowed: Mapping[str, Any]) -> np.ndarray:
        """True for chunks matching every condition. Conditions: field → set of values, or
        ("min", n) / ("max", n) for the *_ymd fields (key suffixed _max for an upper bound);
        "sectors" → set of sectors, any of which matches. Read-only: masks are cached."""
        key = tuple(
            sorted(
                (f, c if isinstance(c, tuple) else tuple(sorted(map(str, c))))
                for f, c in allowed.items()
            )
        )
        cached = self._masks.get(key)
        if cached is None:
            cached = self._mask(allowed)
            cached.flags.writeable = False
            if len(self._masks) >= _MASK_CACHE:
                self._masks.pop(next(iter(self._masks)))
            self._masks[key] = cached
        return cached

    def _mask(self, allowed: Mapping[str, Any]) -> np.ndarray:
        keep = np.ones(self.size, dtype=bool)
        for field, condition in allowed.items():
            if field == "sectors":
                hit = np.zeros(self.size, dtype=bool)
                for sector in condition:
                    if sector in self.sector_rows:
                        hit[self.sector_rows[sector]] = True
                keep &= hit
            elif isinstance(condition, tuple):
                bound, value = condition
                column = self.dates[field.removesuffix("_max")]
                keep &= column >= value if bound == "min" else (column <= value) & (column >= 0)
            else:
                vocab = self.vocab[field]
                table = np.zeros(len(vocab) + 1, dtype=bool)
                table[[vocab[v] for v in condition if v in vocab]] = True
                keep &= table[self.codes[field]]
        return keep


class Sized(Protocol):
    size: int


State = TypeVar("State", bound=Sized)


class DerivedIndex(ABC, Generic[State]):
    """A copy of the collection kept in memory and in `folder/<collection>`."""

    def __init__(self, folder: Path, index: ChromaIndex) -> None:
        self.folder = folder / index.name
        self.index = index
        self._lock = threading.Lock()
        self._state: State | None = None
        self._stamp: str | None = None

    @abstractmethod
    def _build(self) -> State:
        """The copy, read from Chroma."""

    @abstractmethod
    def _save(self, state: State, folder: Path) -> None:
        """Write the copy into the (staging) folder."""

    @abstractmethod
    def _load(self, folder: Path) -> State:
        """Read a saved copy back."""

    def rebuild(self) -> None:
        state = self._build()
        staging = self.folder.with_name(self.folder.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        self._save(state, staging)
        stamp = uuid.uuid4().hex
        (staging / "stamp").write_text(stamp, encoding="utf-8")
        # Swap in whole so a reader never sees half a copy.
        shutil.rmtree(self.folder, ignore_errors=True)
        staging.rename(self.folder)
        with self._lock:
            self._state, self._stamp = state, stamp

    def state(self) -> State:
        """The current copy: kept, reloaded from disk or rebuilt, whichever is in step."""
        current = self.index.recent_count()
        try:
            stamp: str | None = (self.folder / "stamp").read_text(encoding="utf-8")
        except OSError:
            stamp = None
        with self._lock:
            if self._state is not None and self._stamp == stamp and self._state.size == current:
                return self._state
        if stamp is not None:
            try:
                loaded = self._load(self.folder)
            except (OSError, ValueError, KeyError):
                loaded = None  # half-written by a concurrent rebuild or damaged: rebuild
            if loaded is not None and loaded.size == current:
                with self._lock:
                    self._state, self._stamp = loaded, stamp
                return loaded
        self.rebuild()
        assert self._state is not None
        return self._state


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
