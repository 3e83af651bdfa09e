"""Prompt templates, loaded by name from the files in this package.

Templates use `${name}` placeholders; `${rules}` pulls in `rules.md`, where the answering
rules are stated once. A missing value is an error, never an empty hole in a prompt.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template


@cache
def _template(name: str) -> Template:
    try:
        text = resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyError(f"no prompt template named {name!r}") from None
    return Template(text.strip())


def template_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".md")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".md")
    )


def render(name: str, **values: str) -> str:
    """Render a template; `rules` is filled in from rules.md with the same values."""
    if name != "rules" and "${rules}" in _template(name).template:
        values = {**values, "rules": _template("rules").substitute(values)}
    return _template(name).substitute(values)
