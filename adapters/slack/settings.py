"""The Slack adapter's settings: Slack's own variable names (SLACK_BOT_TOKEN, SLACK_APP_TOKEN,
SLACK_SIGNING_SECRET, SLACK_API_URL) and ours (ZBRAIN_SLACK_*), from the environment and
`.env`, read when called."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.settings import ConfigError

MEMBER_HINT = "slack_member"
MANAGER_HINT = "slack_manager"


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    # The Web API's base URL (tests, an egress proxy); slack_sdk's default otherwise.
    api_url: str | None = Field(None, validation_alias="SLACK_API_URL")
    mode: Literal["socket", "http"] = Field("socket", validation_alias="ZBRAIN_SLACK_MODE")
    events_path: str = Field("/slack/events", validation_alias="ZBRAIN_SLACK_EVENTS_PATH")
    # What a full member of the workspace may see (guests and Slack Connect users get no hint).
    member_role: Literal["guest", "partner", "staff", "manager"] = Field(
        "staff", validation_alias="ZBRAIN_SLACK_MEMBER_ROLE"
    )
    managers: str = Field("", validation_alias="ZBRAIN_SLACK_MANAGERS")  # user ids, comma-separated
    manager_group: str | None = Field(None, validation_alias="ZBRAIN_SLACK_MANAGER_GROUP")
    # Native streaming appends at most this often; the chat.update fallback at most once a second.
    stream_interval: float = Field(
        0.5, gt=0, le=10, validation_alias="ZBRAIN_SLACK_STREAM_INTERVAL"
    )
    update_interval: float = Field(
        1.0, gt=0, le=10, validation_alias="ZBRAIN_SLACK_UPDATE_INTERVAL"
    )
    # How long what Slack said about a person or a channel is trusted before asking again.
    cache_seconds: float = Field(300.0, ge=0, validation_alias="ZBRAIN_SLACK_CACHE_SECONDS")

    @field_validator("api_url", "manager_group")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("mode", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def manager_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.managers.split(",") if part.strip())

    @property
    def base_url(self) -> str | None:
        if self.api_url is None:
            return None
        return self.api_url if self.api_url.endswith("/") else self.api_url + "/"

    def secret(self, name: Literal["bot_token", "app_token", "signing_secret"]) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else ""

    def problems(self) -> list[str]:
        """What stops the adapter from starting, one line each (empty: it can start)."""
        found = []
        if not self.secret("bot_token"):
            found.append("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)")
        if self.mode == "http" and not self.secret("signing_secret"):
            found.append(
                "ZBRAIN_SLACK_MODE=http needs SLACK_SIGNING_SECRET (Basic Information → "
                "Signing Secret) to verify Slack's requests; refusing to start without it"
            )
        if self.mode == "socket" and not self.secret("app_token"):
            found.append(
                "ZBRAIN_SLACK_MODE=socket (the default) needs SLACK_APP_TOKEN (an app-level "
                "token, xapp-…, with connections:write), or set ZBRAIN_SLACK_MODE=http"
            )
        return found


def load_slack_settings(**overrides: object) -> SlackSettings:
    try:
        return SlackSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = SlackSettings.model_fields.get(str(error["loc"][0]))
            name = (field.validation_alias if field else None) or error["loc"][0]
            lines.append(f"{name}: {error['msg']}")
        raise ConfigError("; ".join(lines)) from None
