"""The entry point `zbrain.adapters: slack`: whether Slack is configured, the hint roles, and
the service `zbrain serve` runs."""

from __future__ import annotations

from pathlib import Path

import typer

from adapters.slack.settings import MANAGER_HINT, MEMBER_HINT, load_slack_settings
from bot.runtime import Runtime
from bot.serve import Service
from bot.settings import ConfigError, Settings

MANIFEST = Path(__file__).with_name("manifest.yaml")


class SlackPlugin:
    name = "slack"

    def configured(self, settings: Settings) -> bool:
        try:
            return bool(load_slack_settings().secret("bot_token"))
        except ConfigError:
            return True  # build() then says what is wrong, in one line

    def requirements(self) -> str:
        return (
            "Slack: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode), or "
            "ZBRAIN_SLACK_MODE=http with SLACK_SIGNING_SECRET (see README, 'Slack')"
        )

    def hint_roles(self, settings: Settings) -> dict[str, str]:
        slack = load_slack_settings()
        return {MEMBER_HINT: slack.member_role, MANAGER_HINT: "manager"}

    def build(self, runtime: Runtime) -> Service:
        from adapters.slack.service import SlackService

        return SlackService(runtime)

    def register_cli(self, app: typer.Typer) -> None:
        slack = typer.Typer(help="The Slack app.", no_args_is_help=True)

        @slack.command("manifest")
        def manifest() -> None:
            """Print the Slack app manifest to paste at api.slack.com/apps → Create New App."""
            typer.echo(MANIFEST.read_text(encoding="utf-8"))

        app.add_typer(slack, name="slack")


plugin = SlackPlugin()
