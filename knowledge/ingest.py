"""Idempotent ingestion of folders and files into the Chroma index.

A chunk's id is derived from its ingest root, document id, position and a hash of its
embedded text and metadata, so an unchanged document is recognised without embedding, a
changed one is rewritten, and a run killed half-way is completed by simply running again:
the next run upserts what is missing and deletes what no longer belongs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from knowledge.chunking import chunk_text
from knowledge.language import detect_language
from knowledge.loaders import LoadError, is_supported, load_raw, load_yaml
from knowledge.metadata import build_document
from knowledge.model import Document, Kind, Visibility, parse_choice
from retrieval.embeddings import Embedder, EmbeddingError
from retrieval.filters import where_all
from retrieval.index import ChromaIndex

SAMPLES_DIR = Path(__file__).parent / "samples" / "documents"
FOLDER_DEFAULTS_FILE = "_defaults.yaml"
_DEFAULT_KEYS = {"visibility", "kind", "node", "language", "sectors"}

# (what is being read, files done — fractional inside a long file —, files in all)
Progress = Callable[[str, float, int], None]
# Passages embedded between two progress reports inside one file.
_PROGRESS_BATCH = 32

log = logging.getLogger(__name__)


class Rebuildable(Protocol):
    def rebuild(self) -> object: ...


@dataclass(frozen=True)
class FileProblem:
    path: str
    reason: str


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[FileProblem] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)
    chunks: int = 0
    chunks_written: int = 0
    chunks_deleted: int = 0
    embedded: int = 0
    seconds: float = 0.0

    @property
    def ingested(self) -> int:
        return self.added + self.updated + self.unchanged

    @property
    def nothing_ingested(self) -> bool:
        return self.ingested == 0 and self.removed == 0


@dataclass(frozen=True)
class _Source:
    root: Path
    files: tuple[Path, ...]
    is_folder: bool

    @property
    def key(self) -> str:
        return str(self.root.resolve())


def root_tag(root_key: str) -> str:
    return hashlib.sha256(root_key.encode()).hexdigest()[:8]


def embedded_text(title: str, heading: str, body: str) -> str:
    """What the model sees for a chunk: its document title and heading path give short
    chunks the context a reader would have."""
    header = title if not heading or heading == title else f"{title} — {heading}"
    return f"{header}\n{body}"


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _collect(paths: Iterable[Path]) -> tuple[list[_Source], list[FileProblem]]:
    sources: list[_Source] = []
    missing: list[FileProblem] = []
    for path in paths:
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not _is_hidden(p, path) and p.name != FOLDER_DEFAULTS_FILE
            )
            sources.append(_Source(path, tuple(files), True))
        elif path.is_file():
            sources.append(_Source(path.parent, (path,), False))
        else:
            missing.append(FileProblem(str(path), "no such file or folder"))
    return sources, missing


class _FolderDefaults:
    """Merged `_defaults.yaml` files from the ingest root down to a file's folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Path, dict[str, Any]] = {}

    def _read(self, folder: Path) -> dict[str, Any]:
        file = folder / FOLDER_DEFAULTS_FILE
        if not file.is_file():
            return {}
        try:
            data = load_yaml(file.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise LoadError(f"folder defaults {file} are not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise LoadError(f"folder defaults {file} must be a mapping")
        unknown = set(data) - _DEFAULT_KEYS
        if unknown:
            raise LoadError(
                f"folder defaults {file}: unknown keys {sorted(unknown)}; "
                f"allowed: {sorted(_DEFAULT_KEYS)}"
            )
        if "visibility" in data:
            try:
                parse_choice(Visibility, data["visibility"], "visibility")
            except ValueError as exc:
                raise LoadError(f"folder defaults {file}: {exc}") from None
        return data

    def for_file(self, path: Path) -> dict[str, Any]:
        folder = path.parent
        if folder not in self._cache:
            chain = [folder, *folder.parents]
            merged: dict[str, Any] = {}
            for level in reversed(chain):
                if level == self.root or self.root in level.parents:
                    merged.update(self._read(level))
            self._cache[folder] = merged
        return self._cache[folder]


@dataclass(frozen=True)
class _Record:
    id: str
    text: str
    embed_text: str
    metadata: dict[str, Any]


def _records(document: Document, root_key: str, embedder: Embedder) -> list[_Record]:
    chunks = chunk_text(document.text, count_tokens=embedder.count_tokens)
    tag = root_tag(root_key)
    records = []
    for chunk in chunks:
        meta = {
            **document.metadata,
            "root": root_key,
            "chunk_index": chunk.position,
            "heading": chunk.heading,
            # Calibration works on the language a chunk is written in, which in a bilingual
            # document is not always the document's.
            "chunk_language": detect_language(
                chunk.text, default=str(document.metadata["language"])
            ),
        }
        to_embed = embedded_text(str(meta["title"]), chunk.heading, chunk.text)
        digest = hashlib.sha256(
            (to_embed + "\x00" + json.dumps(meta, sort_keys=True, ensure_ascii=False)).encode()
        ).hexdigest()[:16]
        records.append(
            _Record(
                f"{tag}:{document.doc_id}:{chunk.position:04d}:{digest}", chunk.text, to_embed, meta
            )
        )
    return records


def _within_file(
    progress: Progress | None, relative: str, done: int, total: int
) -> Callable[[int, int], None] | None:
    """Progress inside one file: a file of many passages moves the bar by fractions."""
    if progress is None:
        return None

    def report(embedded: int, passages: int) -> None:
        progress(f"{relative} ({embedded}/{passages})", done + embedded / passages, total)

    return report


class Ingestor:
    def __init__(
        self, index: ChromaIndex, embedder: Embedder, derived: Sequence[Rebuildable] = ()
    ) -> None:
        self.index = index
        self.embedder = embedder
        # Structures derived from the index (language centroids, BM25), rebuilt after changes.
        self.derived = list(derived)

    def ingest(
        self,
        paths: Iterable[Path | str],
        *,
        visibility: str | None = None,
        kind: str | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest files and folders; files that cannot be read are reported, not fatal."""
        if visibility is not None:
            visibility = parse_choice(Visibility, visibility, "--visibility").value
        if kind is not None:
            kind = parse_choice(Kind, kind, "--kind").value
        started = time.perf_counter()
        report = IngestReport()
        sources, missing = _collect(Path(p).expanduser() for p in paths)
        report.failed.extend(missing)
        total = sum(len(s.files) for s in sources)
        done = 0
        embedded_before = getattr(self.embedder, "embedded", 0)
        for source in sources:
            defaults = _FolderDefaults(source.root)
            seen: dict[str, str] = {}
            failed_paths: set[str] = set()
            for file in source.files:
                relative = file.resolve().relative_to(source.root.resolve()).as_posix()
                if progress:
                    progress(relative, done, total)
                self._ingest_file(
                    file,
                    source,
                    defaults,
                    seen,
                    failed_paths,
                    report,
                    visibility=visibility,
                    kind=kind,
                    on_batch=_within_file(progress, relative, done, total),
                )
                done += 1
            if progress:
                progress("", done, total)
            if source.is_folder:
                self._remove_vanished(source.key, set(seen), failed_paths, report)
        if report.chunks_written or report.chunks_deleted:
            for structure in self.derived:
                structure.rebuild()
        report.embedded = getattr(self.embedder, "embedded", 0) - embedded_before
        report.seconds = time.perf_counter() - started
        return report

    def index_documents(
        self, documents: Sequence[Document], root_key: str, *, complete: bool = False
    ) -> IngestReport:
        """Index documents made in memory (lead text views) under their own root. With
        `complete`, they are the whole root: documents of that root not among them go."""
        started = time.perf_counter()
        report = IngestReport()
        for document in documents:
            records = _records(document, root_key, self.embedder)
            report.chunks += len(records)
            status = self._write(document.doc_id, root_key, records, report)
            setattr(report, status, getattr(report, status) + 1)
        if complete:
            self._remove_vanished(root_key, {d.doc_id for d in documents}, set(), report)
        if report.chunks_written or report.chunks_deleted:
            for structure in self.derived:
                structure.rebuild()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_file(
        self,
        file: Path,
        source: _Source,
        defaults: _FolderDefaults,
        seen: dict[str, str],
        failed_paths: set[str],
        report: IngestReport,
        *,
        visibility: str | None,
        kind: str | None,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        relative = file.resolve().relative_to(source.root.resolve()).as_posix()
        shown = str(file)
        if not is_supported(file):
            report.skipped.append(
                FileProblem(shown, f"unsupported file type {file.suffix or '(none)'}")
            )
            return
        try:
            document, records = self._read(file, source, defaults, seen, visibility, kind)
        except LoadError as exc:
            reason = str(exc)
        except EmbeddingError:
            raise  # the model, not this file: every file would fail the same way
        except Exception as exc:
            # A parser's own bug on a strange file (PDF, DOCX and HTML libraries raise
            # anything) fails that file, not the run; the traceback goes to the log.
            log.warning("could not read %s", file, exc_info=True)
            reason = f"could not be read ({type(exc).__name__}: {exc})"
        else:
            reason = ""
        if reason:
            # Its previous chunks stay (see _remove_vanished): a broken save loses nothing.
            failed_paths.add(relative)
            report.failed.append(FileProblem(shown, reason))
            return
        seen[document.doc_id] = relative
        report.warnings.extend(FileProblem(shown, w) for w in document.warnings)
        report.chunks += len(records)
        status = self._write(document.doc_id, source.key, records, report, on_batch)
        setattr(report, status, getattr(report, status) + 1)

    def _read(
        self,
        file: Path,
        source: _Source,
        defaults: _FolderDefaults,
        seen: Mapping[str, str],
        visibility: str | None,
        kind: str | None,
    ) -> tuple[Document, list[_Record]]:
        raw = load_raw(file)
        document = build_document(
            raw,
            path=file,
            root=source.root,
            folder_defaults=defaults.for_file(file),
            visibility=visibility,
            kind=kind,
        )
        if document.doc_id in seen:
            raise LoadError(f"id {document.doc_id!r} is also used by {seen[document.doc_id]}")
        records = _records(document, source.key, self.embedder)
        if not records:
            raise LoadError("no text to index")
        return document, records

    def _write(
        self,
        doc_id: str,
        root_key: str,
        records: list[_Record],
        report: IngestReport,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> str:
        existing = {
            chunk_id
            for chunk_id, _ in self.index.iter_metadata(
                where_all({"root": root_key}, {"doc_id": doc_id})
            )
        }
        wanted = {r.id for r in records}
        if existing == wanted:
            return "unchanged"
        # Write the new chunks before deleting the old, so a crash in between leaves the
        # document findable and the next run finishes the job.
        fresh = [r for r in records if r.id not in existing]
        # In batches, so a long file shows progress and a run killed inside it keeps what
        # was written (the next run finds those chunks and embeds only the rest).
        for start in range(0, len(fresh), _PROGRESS_BATCH):
            batch = fresh[start : start + _PROGRESS_BATCH]
            vectors = self.embedder.embed_passages([r.embed_text for r in batch])
            self.index.upsert(
                [r.id for r in batch], vectors, [r.text for r in batch], [r.metadata for r in batch]
            )
            if on_batch and len(fresh) > _PROGRESS_BATCH:
                on_batch(start + len(batch), len(fresh))
        stale = sorted(existing - wanted)
        self.index.delete(stale)
        report.chunks_written += len(fresh)
        report.chunks_deleted += len(stale)
        return "updated" if existing else "added"

    def _remove_vanished(
        self, root_key: str, kept_doc_ids: set[str], failed_paths: set[str], report: IngestReport
    ) -> None:
        """Drop documents whose file left the folder. A file that failed to load this time
        keeps its previous chunks: a broken save must not erase what was indexed."""
        by_doc: Mapping[str, list[str]] = defaultdict(list)
        for chunk_id, meta in self.index.iter_metadata({"root": root_key}):
            doc_id = str(meta.get("doc_id"))
            if doc_id in kept_doc_ids or meta.get("path") in failed_paths:
                continue
            by_doc[doc_id].append(chunk_id)  # type: ignore[index]
        for chunk_ids in by_doc.values():
            self.index.delete(chunk_ids)
            report.chunks_deleted += len(chunk_ids)
        report.removed += len(by_doc)
