from __future__ import annotations

from pathlib import Path

from bot.services import Services
from bot.settings import load_settings
from tests.conftest import run_cli
from tests.fake_openai import FakeOpenAI, serve_fake_openai


def _openai_services(data_dir: Path, base_url: str, **extra: object) -> Services:
    return Services(
        load_settings(
            ZBRAIN_DATA_DIR=str(data_dir),
            ZBRAIN_EMBEDDINGS="openai",
            OPENAI_BASE_URL=base_url,
            OPENAI_API_KEY="sk-test",
            ZBRAIN_EMBEDDING_MODEL="fake-embed",
            **extra,
        )
    )


def test_openai_compatible_endpoint_ingests_and_searches(tmp_path: Path, fixture_kb: Path) -> None:
    with serve_fake_openai() as fake:
        services = _openai_services(tmp_path / "data", fake.base_url)
        report = services.ingestor().ingest([fixture_kb])
        assert report.added == 6 and not report.failed
        assert services.index.name == "zbrain-openai-fake-embed"
        assert services.embedder.dim == 64
        hits = services.search("Elektrolyseur-Hersteller Pilotanlage", role="partner", k=1)
        assert hits[0].metadata["path"] == "reports/munich.md"
        paths = {path for path, _ in fake.requests}
        assert paths == {"/v1/embeddings"}
        assert all(body["model"] == "fake-embed" for _, body in fake.requests)


def test_requested_dimensions_reach_the_endpoint_and_name_the_collection(
    tmp_path: Path, fixture_kb: Path
) -> None:
    with serve_fake_openai() as fake:
        services = _openai_services(
            tmp_path / "data", fake.base_url, ZBRAIN_EMBEDDING_DIMENSIONS=32
        )
        services.ingestor().ingest([fixture_kb])
        assert services.embedder.dim == 32
        assert services.index.name == "zbrain-openai-fake-embed-32"
        assert all(body.get("dimensions") == 32 for _, body in fake.requests)


def test_a_transient_error_is_retried(tmp_path: Path, fixture_kb: Path) -> None:
    with serve_fake_openai(FakeOpenAI(failures=[429, 503])) as fake:
        services = _openai_services(tmp_path / "data", fake.base_url)
        assert services.ingestor().ingest([fixture_kb]).added == 6


def test_endpoint_down_is_a_clear_cli_error(tmp_path: Path) -> None:
    env = {
        "ZBRAIN_DATA_DIR": str(tmp_path / "data"),
        "ZBRAIN_EMBEDDINGS": "openai",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "OPENAI_API_KEY": "sk-secret-value",
        "OPENAI_TIMEOUT": "2",
    }
    result = run_cli("search", "anything", env=env, timeout=120)
    assert result.returncode == 2
    assert "embedding endpoint failed" in result.stderr
    assert "sk-secret-value" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
