"""The Telegram adapter's configuration: environment and `.env`, read when called."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.settings import ConfigError

DEFAULT_API_URL = "https://api.telegram.org/bot"
# Telegram's rule for a webhook's secret_token.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    # A self-hosted Bot API server, or the fake one in tests; the token is appended.
    api_url: str = Field(DEFAULT_API_URL, validation_alias="TELEGRAM_API_URL")
    # Where files are downloaded from; by default derived from api_url (…/bot → …/file/bot).
    file_url: str | None = Field(None, validation_alias="TELEGRAM_FILE_URL")
    mode: Literal["polling", "webhook"] = Field("polling", validation_alias="ZBRAIN_TELEGRAM_MODE")
    webhook_secret: SecretStr | None = Field(
        None, validation_alias="ZBRAIN_TELEGRAM_WEBHOOK_SECRET"
    )
    webhook_path: str = Field("/telegram/webhook", validation_alias="ZBRAIN_TELEGRAM_WEBHOOK_PATH")
    # The public HTTPS address Telegram posts to (behind the reverse proxy); when set, the
    # service registers it with setWebhook at start.
    webhook_url: str | None = Field(None, validation_alias="ZBRAIN_TELEGRAM_WEBHOOK_URL")
    guests: Literal["public", "refuse"] = Field("public", validation_alias="ZBRAIN_TELEGRAM_GUESTS")
    # Seconds between shown partial answers: drafts in private chats, edits in groups.
    draft_interval: float = Field(
        0.4, ge=0, le=10, validation_alias="ZBRAIN_TELEGRAM_DRAFT_INTERVAL"
    )
    edit_interval: float = Field(1.0, ge=0, le=30, validation_alias="ZBRAIN_TELEGRAM_EDIT_INTERVAL")
    # Long-poll timeout passed to getUpdates.
    poll_timeout: float = Field(10.0, ge=0, le=50, validation_alias="ZBRAIN_TELEGRAM_POLL_TIMEOUT")

    @field_validator("api_url", "file_url", mode="before")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not str(value).strip():
            return DEFAULT_API_URL if info.field_name == "api_url" else None
        value = str(value).strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://api.telegram.org/bot")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith("/"):
            raise ValueError("expected a path starting with /, e.g. /telegram/webhook")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("expected 1-256 characters: letters, digits, _ or -")
        return value

    @property
    def configured(self) -> bool:
        return self.bot_token is not None and bool(self.bot_token.get_secret_value().strip())

    @property
    def token(self) -> str:
        if not self.configured:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set (the token BotFather gave you)")
        assert self.bot_token is not None
        return self.bot_token.get_secret_value().strip()

    @property
    def resolved_file_url(self) -> str:
        if self.file_url:
            return self.file_url
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    def check_webhook(self) -> str:
        """The webhook's secret; ConfigError when webhook mode has none (anyone could post
        updates to an open webhook)."""
        if self.webhook_secret is None:
            raise ConfigError(
                "ZBRAIN_TELEGRAM_MODE=webhook needs ZBRAIN_TELEGRAM_WEBHOOK_SECRET "
                "(1-256 letters, digits, _ or -), the secret Telegram sends with each update"
            )
        return self.webhook_secret.get_secret_value()


_ENV = {name: str(field.validation_alias) for name, field in TelegramSettings.model_fields.items()}


def load_telegram_settings(**overrides: object) -> TelegramSettings:
    """Read the settings now; ConfigError names each bad variable (never a secret's value)."""
    try:
        return TelegramSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for item in exc.errors():
            loc = str(item["loc"][0]) if item.get("loc") else ""
            env = _ENV.get(loc, loc)
            message = item.get("msg", "invalid value").removeprefix("Value error, ")
            shown = "" if "TOKEN" in env or "SECRET" in env else f" (got {item.get('input')!r})"
            lines.append(f"{env}: {message}{shown}")
        raise ConfigError("invalid Telegram configuration:\n  " + "\n  ".join(lines)) from None
