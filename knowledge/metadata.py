"""Normalise what a file says about itself into the metadata every chunk carries."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from knowledge.language import detect_language, normalize_tag
from knowledge.loaders import LoadError, RawDocument
from knowledge.model import Document, Kind, Visibility, parse_choice

DATE_KEYS = ("published", "effective_from", "expires")
NO_EXPIRY = 99991231
# Keys the index itself sets on every chunk; a front-matter key of the same name is kept
# under a prefixed name rather than silently overwriting ours.
RESERVED_KEYS = {"chunk_index", "heading", "root", "content_hash", "doc_id", "path"}
# Personal data is only carried into the index for documents already marked restricted;
# elsewhere it would reach every role allowed to see the document.
PERSONAL_KEYS = {
    "contact",
    "contacts",
    "email",
    "phone",
    "contact_name",
    "contact_email",
    "contact_phone",
}
_SOURCE_KEYS = ("source_url", "url", "source")
_LANGUAGE_KEYS = ("language", "lang")
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d.%m.%Y",
    "%Y年%m月%d日",
    "%Y-%m",
    "%Y年%m月",
)

# Digits in the shape of a date (2020-13-45, 31.02.2025, 2025年13月, 20251345): a typo, not
# text such as 待定 or "until further notice".
_DATE_SHAPED = re.compile(
    r"\s*(?:\d{4}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*[./]\s*\d{1,2}\s*[./]\s*\d{2,4}|\d{8}\s*$)"
)


def parse_date(value: Any) -> dt.date | None:
    """A date from YAML or text in the common Chinese and European spellings, else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def slug(value: Any) -> str:
    return re.sub(r"[\s_]+", "-", str(value).strip().lower())


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[,，、;；]", value)
    elif isinstance(value, list | tuple | set):
        items = [str(v) for v in value]
    else:
        items = [str(value)]
    return [slug(item) for item in items if str(item).strip()]


def chroma_value(value: Any) -> str | int | float | bool | list[Any] | None:
    """Chroma stores scalars and flat non-empty lists of one type; anything else as JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple) and value:
        items = [chroma_value(v) for v in value]
        if all(isinstance(v, str) for v in items):
            return items
    if isinstance(value, list | tuple) and not value:
        return None
    return json.dumps(value, ensure_ascii=False, default=str)


def _first_heading(text: str) -> str | None:
    match = re.search(r"^#{1,2}\s+(.+?)\s*#*$", text, re.MULTILINE)
    return match.group(1).strip() if match else None


def build_document(
    raw: RawDocument,
    *,
    path: Path,
    root: Path,
    folder_defaults: Mapping[str, Any] | None = None,
    visibility: str | None = None,
    kind: str | None = None,
) -> Document:
    """Apply the precedence rules: the file's own metadata, then the command's options,
    then the folder's `_defaults.yaml`, then built-in defaults."""
    folder = dict(folder_defaults or {})
    given = dict(raw.metadata)
    warnings: list[str] = []
    relative = path.resolve().relative_to(root.resolve()).as_posix()

    meta: dict[str, Any] = {}
    for key, value in given.items():
        key = str(key)
        if key in PERSONAL_KEYS or key in _SOURCE_KEYS or key in _LANGUAGE_KEYS:
            continue
        if key in {"id", "title", "kind", "visibility", "node", "sectors", *DATE_KEYS}:
            continue
        converted = chroma_value(value)
        if converted is not None:
            meta[f"fm_{key}" if key in RESERVED_KEYS else key] = converted

    doc_id = str(given.get("id") or relative).strip()

    chosen_visibility = (
        given.get("visibility") or visibility or folder.get("visibility") or "internal"
    )
    try:
        meta["visibility"] = parse_choice(Visibility, chosen_visibility, "visibility").value
    except ValueError as exc:
        # An unknown level must not fall back to a more open one.
        raise LoadError(str(exc)) from None

    chosen_kind = given.get("kind") or kind or folder.get("kind") or Kind.OTHER.value
    try:
        meta["kind"] = parse_choice(Kind, chosen_kind, "kind").value
    except ValueError as exc:
        warnings.append(f"{exc}; using 'other'")
        meta["kind"] = Kind.OTHER.value

    meta["title"] = str(given.get("title") or _first_heading(raw.text) or path.stem).strip()

    language_value = next((given[k] for k in _LANGUAGE_KEYS if given.get(k)), None)
    language_value = language_value or folder.get("language")
    tag = normalize_tag(str(language_value)) if language_value else None
    if language_value and tag is None:
        warnings.append(
            f"language {language_value!r} is not a language tag; detected from the text"
        )
    if tag is None:
        meta["language"] = detect_language(raw.text)
    else:
        meta["language"] = tag[0]
        if tag[1] != tag[0]:
            meta["language_tag"] = tag[1]

    node = given.get("node") or folder.get("node")
    if node:
        meta["node"] = slug(node)
    sectors = _as_list(given.get("sectors", folder.get("sectors")))
    if sectors:
        meta["sectors"] = sectors

    for key in DATE_KEYS:
        value = given.get(key)
        if value in (None, ""):
            continue
        parsed = parse_date(value)
        if parsed is None and _DATE_SHAPED.match(str(value)):
            # A mistyped date is refused rather than kept as text: an `expires` read as
            # "never" would show an expired policy as in force.
            raise LoadError(f"{key}: {value} is not a date (YYYY-MM-DD)")
        if parsed is None:
            warnings.append(f"{key}: {value} is not a date (YYYY-MM-DD); kept as text")
            meta[key] = str(value)
        else:
            meta[key] = parsed.isoformat()
            # Chroma compares numbers only, so dates are also kept as YYYYMMDD integers.
            meta[f"{key}_ymd"] = parsed.year * 10000 + parsed.month * 100 + parsed.day

    # Chroma cannot filter on a missing key, so "never expires" is spelled as a far date.
    meta.setdefault("expires_ymd", NO_EXPIRY)

    if meta["visibility"] == Visibility.RESTRICTED.value:
        for key in PERSONAL_KEYS & given.keys():
            converted = chroma_value(given[key])
            if converted is not None:
                meta[key] = converted

    source = next((given[k] for k in _SOURCE_KEYS if given.get(k)), None)
    meta["source"] = str(source).strip() if source else str(path.resolve())
    meta["path"] = relative
    meta["doc_id"] = doc_id
    return Document(doc_id=doc_id, text=raw.text, metadata=meta, warnings=tuple(warnings))
