"""Filter values as people type them (慕尼黑, Wasserstoff, munchen) checked against the known
ones: a typo says so and suggests the closest, instead of quietly matching nothing."""

from __future__ import annotations

from collections.abc import Iterable

from bot import i18n
from knowledge.glossary import Glossary, closest, normalize

# Glossary list → the catalogue's word for the filter (cli.column.*).
_WHAT = {"nodes": "node", "sectors": "sector", "stages": "stage", "divisions": "division"}


class UnknownValue(ValueError):
    """A filter value that names nothing known; the message suggests the closest."""


def unknown_message(
    what: str, value: str, suggestion: str | None, known: Iterable[str], language: str = "en"
) -> str:
    label = i18n.text(f"cli.column.{what}", language)
    if suggestion is not None:
        return i18n.text(
            "cli.filter.unknown_suggest", language, what=label, value=value, suggestion=suggestion
        )
    shown = ", ".join(sorted(set(known)))
    return i18n.text("cli.filter.unknown_known", language, what=label, value=value, known=shown)


def resolve(
    glossary: Glossary,
    list_name: str,
    value: str | None,
    also_known: Iterable[str] = (),
    language: str = "en",
) -> str | None:
    """The stored id for a filter value in any language, or UnknownValue. `also_known`: ids
    in use that the glossary lacks (a sector stored before imports checked sectors)."""
    if value is None:
        return None
    found = glossary.canonical(list_name, value)
    if found is not None:
        return found
    extra = {normalize(v): v for v in also_known}
    slug = extra.get(normalize(value))
    if slug is not None:
        return slug
    known = [*glossary.ids(list_name), *extra.values()]
    suggestion = glossary.suggest(list_name, value, extra.values())
    raise UnknownValue(unknown_message(_WHAT[list_name], value, suggestion, known, language))


def resolve_division(
    divisions: dict[str, str], value: str | None, language: str = "en"
) -> str | None:
    """A division key from its key or Chinese or English name (`division_names()`)."""
    if value is None:
        return None
    found = divisions.get(normalize(value))
    if found is not None:
        return found
    suggestion = closest(value, divisions)
    known = divisions.values()
    raise UnknownValue(unknown_message("division", value, suggestion, known, language))
