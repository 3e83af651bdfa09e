from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.settings import load_settings
from retrieval.index import ChromaIndex, IndexMismatchError, collection_name, make_client
from tests.conftest import run_cli


class HashEmbedder:
    """A tiny deterministic embedder standing in for a second model."""

    def __init__(self, model_id: str, dim: int) -> None:
        self.model_id = model_id
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self._dim, dtype=np.float32)
        for char in text:
            vector[ord(char) % self._dim] += 1
        return vector / (np.linalg.norm(vector) or 1)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self._dim))

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_each_model_gets_its_own_collection(tmp_path: Path) -> None:
    client = make_client(load_settings(ZBRAIN_DATA_DIR=str(tmp_path)))
    first = ChromaIndex(client, HashEmbedder("test/model-a", 8))
    second = ChromaIndex(client, HashEmbedder("test/model-b", 16))
    assert first.name != second.name == collection_name("test/model-b")


def test_pinned_collection_refuses_another_model(tmp_path: Path) -> None:
    client = make_client(load_settings(ZBRAIN_DATA_DIR=str(tmp_path)))
    ChromaIndex(client, HashEmbedder("test/model-a", 8), name="kb-main")
    with pytest.raises(IndexMismatchError) as caught:
        ChromaIndex(client, HashEmbedder("test/model-b", 8), name="kb-main")
    assert "test/model-a" in str(caught.value) and "test/model-b" in str(caught.value)


def test_same_model_name_with_another_dimension_is_refused(tmp_path: Path) -> None:
    client = make_client(load_settings(ZBRAIN_DATA_DIR=str(tmp_path)))
    ChromaIndex(client, HashEmbedder("test/model-a", 8))
    with pytest.raises(IndexMismatchError, match="dimension 8.*dimension 12"):
        ChromaIndex(client, HashEmbedder("test/model-a", 12))


def test_cli_names_the_mismatch(tmp_path: Path, cli_env: dict[str, str]) -> None:
    settings = load_settings(ZBRAIN_DATA_DIR=cli_env["ZBRAIN_DATA_DIR"])
    ChromaIndex(make_client(settings), HashEmbedder("test/other-model", 8), name="shared")
    result = run_cli("status", env={**cli_env, "ZBRAIN_COLLECTION": "shared"})
    assert result.returncode == 2
    assert "was built with embedding model 'test/other-model'" in result.stderr
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """A real `chroma run` server on a free loopback port."""
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.server
def test_server_mode_ingests_and_searches(
    services_factory, fixture_kb: Path, chroma_server: int
) -> None:  # type: ignore[no-untyped-def]
    services = services_factory(CHROMA_HOST="127.0.0.1", CHROMA_PORT=chroma_server)
    report = services.ingestor().ingest([fixture_kb])
    assert report.added == 6
    assert f"Chroma server http://127.0.0.1:{chroma_server}" in services.where()

    hits = services.search("Wasserstoff Elektrolyseur Pilotanlage", role="partner", k=2)
    assert hits[0].metadata["path"] == "reports/munich.md"
    # Nothing was written locally: the data lives on the server.
    assert not (Path(services.settings.data_dir) / "chroma").exists()


def test_unreachable_server_is_a_clear_error(cli_env: dict[str, str]) -> None:
    result = run_cli(
        "status", env={**cli_env, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(_free_port())}
    )
    assert result.returncode == 2
    assert "cannot reach the Chroma server" in result.stderr
