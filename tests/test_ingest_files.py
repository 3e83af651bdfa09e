"""Ingestion of the files people really have: UTF-16 from Windows, a mistyped date, a
binary saved as .txt, an empty file and one enormous line. Embedding goes to the local
fake OpenAI endpoint (trigram vectors), so a 1 MB file costs seconds, not minutes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.services import Services
from bot.settings import load_settings
from knowledge.loaders import LOADERS, RawDocument
from tests.conftest import run_cli
from tests.fake_openai import FakeOpenAI, serve_fake_openai

BAD_DATE = "expires: 2020-13-45 is not a date (YYYY-MM-DD)"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve_fake_openai() as server:
        yield server


def _env(data_dir: Path, fake: FakeOpenAI) -> dict[str, str]:
    return {
        "ZBRAIN_DATA_DIR": str(data_dir),
        "ZBRAIN_EMBEDDINGS": "openai",
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "sk-test",
        "ZBRAIN_EMBEDDING_MODEL": "fake-embed",
    }


def _services(data_dir: Path, fake: FakeOpenAI) -> Services:
    return Services(load_settings(**_env(data_dir, fake)))


def _long_line() -> str:
    return " ".join(f"Gewerbefläche{i % 89} investment incentive" for i in range(30_000))


def _mixed_folder(root: Path, *, long_line: bool = True) -> dict[str, str]:
    """A folder of good and bad files; returns bad file name → the reason it must get."""
    root.mkdir()
    (root / "good.md").write_text(
        "---\ntitle: Lab rent relief\npublished: 2025-03-01\n---\n"
        "Labs in the park pay half rent for three years.\n",
        encoding="utf-8",
    )
    (root / "bad-date.md").write_text(
        "---\ntitle: Old listing bonus\nexpires: 2020-13-45\n---\nListing bonus text.\n",
        encoding="utf-8",
    )
    # Notepad's "Unicode" (UTF-16 LE) and "Unicode big endian", with their byte-order marks.
    (root / "windows-le.txt").write_bytes("\ufeff德国企业落户补贴最高100万元。".encode("utf-16-le"))
    (root / "windows-be.md").write_bytes(
        "\ufeff---\ntitle: Hydrogen note\n---\nElektrolyseure in München.\n".encode("utf-16-be")
    )
    (root / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (root / "empty.txt").write_bytes(b"")
    if long_line:
        (root / "one-line.txt").write_text(_long_line(), encoding="utf-8")
    return {
        "bad-date.md": BAD_DATE,
        "photo.txt": "binary content, not text",
        "empty.txt": "empty file",
    }


def test_good_files_are_ingested_and_each_bad_one_is_named_with_its_reason(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    folder = tmp_path / "inbox"
    expected = _mixed_folder(folder)
    assert len((folder / "one-line.txt").read_bytes()) > 1_000_000
    services = _services(tmp_path / "data", fake)
    calls: list[tuple[str, float, int]] = []

    report = services.ingestor().ingest([folder], progress=lambda *a: calls.append(a))

    assert {Path(p.path).name: p.reason for p in report.failed} == expected
    assert all(Path(p.path).parent == folder for p in report.failed)
    assert report.added == 4
    by_path: dict[str, int] = {}
    for _, meta in services.index.iter_metadata():
        by_path[str(meta["path"])] = by_path.get(str(meta["path"]), 0) + 1
    assert set(by_path) == {"good.md", "windows-le.txt", "windows-be.md", "one-line.txt"}
    assert by_path["one-line.txt"] > 300
    titles = {m["path"]: m["title"] for _, m in services.index.iter_metadata()}
    assert titles["windows-be.md"] == "Hydrogen note"  # front matter read through the BOM
    hits = services.search("德国企业落户补贴", k=1, mode="bm25")
    assert hits and hits[0].metadata["path"] == "windows-le.txt"
    # The bar moves inside the long file, never backwards, and ends full.
    inside = [done for current, done, _ in calls if current.startswith("one-line.txt (")]
    assert len(inside) > 5 and any(done != int(done) for done in inside)
    assert [done for _, done, _ in calls] == sorted(done for _, done, _ in calls)
    assert calls[-1][1:] == (7, 7)


def test_a_failing_reingest_keeps_what_was_stored(tmp_path: Path, fake: FakeOpenAI) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    policy = folder / "policy.md"
    policy.write_text("---\nexpires: 2030-12-31\n---\nLabs pay half rent.\n", encoding="utf-8")
    note = folder / "note.txt"
    note.write_bytes("\ufeffA note for partners.".encode("utf-16-le"))
    services = _services(tmp_path / "data", fake)
    assert services.ingestor().ingest([folder]).added == 2
    before = sorted(chunk_id for chunk_id, _ in services.index.iter_metadata())

    policy.write_text("---\nexpires: 2030-13-31\n---\nLabs pay no rent.\n", encoding="utf-8")
    note.write_bytes(note.read_bytes()[:-1])  # a sync cut the file mid-character
    report = services.ingestor().ingest([folder])

    reasons = {Path(p.path).name: p.reason for p in report.failed}
    assert reasons["policy.md"] == "expires: 2030-13-31 is not a date (YYYY-MM-DD)"
    assert reasons["note.txt"].startswith("not valid UTF-16 text")
    assert (report.removed, report.chunks_deleted) == (0, 0)
    assert sorted(chunk_id for chunk_id, _ in services.index.iter_metadata()) == before
    assert any("half rent" in hit.text for hit in services.search("rent", k=3, mode="bm25"))


def test_cli_lists_every_bad_file_and_exits_zero_when_the_rest_were_ingested(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    # The 1 MB line is left to the test above: in a child process its ~400 passages cost
    # language detection and BM25 time that tells nothing more about the output.
    folder = tmp_path / "inbox"
    expected = _mixed_folder(folder, long_line=False)
    env = _env(tmp_path / "cli-data", fake)

    result = run_cli("ingest", str(folder), env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for name, reason in expected.items():
        assert any(str(folder / name) in line and reason in line for line in lines), name
    assert "Traceback" not in result.stderr
    assert re.search(r"documents added\D+3\b", result.stderr)


def test_a_parser_crash_fails_only_that_file(
    tmp_path: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(path: Path) -> RawDocument:
        raise IndexError("list index out of range")  # as pypdf does on some broken files

    monkeypatch.setitem(LOADERS, ".pdf", crash)
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7")
    (folder / "note.md").write_text("Labs pay half rent.\n")
    report = _services(tmp_path / "data", fake).ingestor().ingest([folder])
    assert report.added == 1
    assert [(Path(p.path).name, p.reason) for p in report.failed] == [
        ("scan.pdf", "could not be read (IndexError: list index out of range)")
    ]
