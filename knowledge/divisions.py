"""The headquarters divisions (divisions.yaml): names, sectors, nodes, contacts, channels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.ingest import SAMPLES_DIR

DEFAULT_DIVISIONS_FILE = SAMPLES_DIR.parent / "divisions.yaml"


@dataclass(frozen=True)
class Division:
    key: str
    name_zh: str
    name_en: str
    sectors: tuple[str, ...]
    nodes: tuple[str, ...]
    contacts: tuple[dict[str, Any], ...]
    slack_channel: str = ""
    partner_regions: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en

    def contact_handles(self) -> tuple[str, ...]:
        """The first contact's chat handles, platform-qualified ("slack:U0123ABC"), from the
        contact's `handles: {slack: U0123ABC}` in divisions.yaml."""
        if not self.contacts:
            return ()
        handles = self.contacts[0].get("handles") or {}
        return tuple(f"{platform}:{handle}" for platform, handle in handles.items() if handle)

    def contact_line(self) -> str:
        if not self.contacts:
            return self.slack_channel
        first = self.contacts[0]
        return ", ".join(str(first[k]) for k in ("name", "phone", "email") if first.get(k))


def load_divisions(path: Path | None = None) -> list[Division]:
    file = path or DEFAULT_DIVISIONS_FILE
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read divisions file {file}: {exc}") from None
    divisions = []
    for item in data.get("divisions", []):
        divisions.append(
            Division(
                key=str(item["key"]),
                name_zh=str(item.get("name_zh", item["key"])),
                name_en=str(item.get("name_en", item["key"])),
                sectors=tuple(item.get("sectors") or ()),
                nodes=tuple(item.get("nodes") or ()),
                contacts=tuple(item.get("contacts") or ()),
                slack_channel=str(item.get("slack_channel", "")),
                partner_regions=tuple(str(r) for r in item.get("partner_regions") or ()),
                languages=tuple(str(lang) for lang in item.get("languages") or ()),
            )
        )
    return divisions
