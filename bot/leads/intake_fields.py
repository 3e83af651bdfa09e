"""Each intake answer read and checked as the field it answers: a sector must be a glossary
sector (with "did you mean"), a node one of ours, jobs a whole number above zero, an amount an
amount with its currency, a contact a name, an e-mail address or a phone number.

The same checks apply to what the description says, to a correction at the draft ("jobs: 80")
and to what a language model extracted, so a value the form would refuse never gets in by
another door. A refusal is a `FieldError`, worded in the form's language from the catalogue.
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from typing import Any

from bot import i18n
from bot.leads.intake_text import FIELD_WORDS, SKIP, label, say
from bot.leads.labels import name as localized
from knowledge.amounts import CURRENCIES, currency_code, read_amount
from knowledge.glossary import Glossary, normalize
from knowledge.leads import LeadError

# The fields a draft holds and a correction may change, in the order the draft shows them.
FIELDS = (
    "company", "node", "sectors", "investment", "expected_jobs", "needs", "contact", "summary",
)  # fmt: skip
SUGGESTION_CUTOFF = 70  # rapidfuzz ratio, 0–100: below it a "did you mean" misleads more than helps
MIN_PHONE_DIGITS = 7
_LIST_SPLIT = re.compile(r"\s*(?:[,;，；、/]|\band\b|\bund\b|\bet\b|和|及|및)\s*", re.IGNORECASE)
_CONTACT_SPLIT = re.compile(r"[,，;；]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# A phone number, perhaps after a short label ("Tel. +49 89 1234567", "电话：138…").
_PHONE = re.compile(r"(?:[^\W\d_]{1,10}\.?\s*[:：]?\s*)?(?P<number>\+?[\d\s()./-]+)")
_NUMBER = re.compile(r"[-−]?\d+(?:[,.'\u00a0 ]\d{3})*(?:[.,]\d+)?")
_LABELLED = re.compile(
    r"^\s*(?P<label>[^:：=\n]{1,30}?)\s*(?:[:：=]|->|→|改为|改成|修改为)\s*(?P<value>.+?)\s*$",
    re.DOTALL,
)


class FieldError(LeadError):
    """An answer that does not fit its field; `key` names the catalogue message
    (intake.invalid.<key>), `values` fill it."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(f"intake.invalid.{key}")
        self.key = key
        self.values = values

    def render(self, language: str) -> str:
        return say(f"invalid.{self.key}", language, **self.values)


def skipped(answer: str) -> bool:
    return normalize(answer).strip(" .!。！") in SKIP


@lru_cache(maxsize=1)
def _field_names() -> dict[str, str]:
    names = {normalize(word): field for field, words in FIELD_WORDS.items() for word in words}
    for language in i18n.LANGUAGES:
        for field in FIELDS:
            names.setdefault(normalize(label(field, language)), field)
    return names


def field_named(text: str) -> str | None:
    """The field a word names in any of the six languages ("Investition", "投资额"), or None."""
    return _field_names().get(normalize(text).strip(" .:：!?。？"))


def labelled(text: str) -> tuple[str, str] | None:
    """(field, value) of "investment: EUR 20m", "Sektor: Wasserstoff", "投资额：2000万美元"."""
    match = _LABELLED.match(text)
    if match is None:
        return None
    field = field_named(match["label"])
    return (field, match["value"]) if field else None


class FieldReader:
    """Reads answers into draft values (the forms `Intake` stores in `Draft.values`)."""

    def __init__(self, glossary: Glossary, nodes: tuple[str, ...], language: str) -> None:
        self.glossary, self.nodes, self.language = glossary, nodes, language

    def read(self, field: str, answer: str) -> Any:
        """The answer as the field's draft value; FieldError when it does not fit."""
        answer = answer.strip()
        skip = skipped(answer)
        if field == "company":
            return self.company(answer, skip)
        if field == "node":
            return self.node(answer)
        if field in ("sectors", "needs"):
            items = [] if skip else [p for p in _LIST_SPLIT.split(answer) if p.strip()]
            return self.listed(field, items)
        if field == "investment":
            return [None, None] if skip else self.investment(answer)
        if field == "expected_jobs":
            return None if skip else self.jobs(answer)
        if field == "contact":
            return [None, None, None] if skip else self.contact(answer)
        if field == "summary":
            if not answer or skip:
                raise FieldError("summary")
            return answer
        raise ValueError(f"no lead field {field!r}")

    # ------------------------------------------------------------------ one field each
    def company(self, answer: str, skip: bool = False) -> str:
        name = " ".join(answer.split())
        not_a_name = (
            skip
            or not any(c.isalpha() for c in name)
            or len(name) > 200
            or self.glossary.canonical("nodes", name) is not None
            or (read_amount(name) or (0, None))[1] is not None
        )
        if not_a_name:
            raise FieldError("company")
        return name

    def node(self, answer: str) -> str:
        node = self.glossary.canonical("nodes", answer)
        if node is None:
            mentioned = [e.id for e in self.glossary.mentioned(answer, "nodes") if e.id]
            node = mentioned[0] if len(set(mentioned)) == 1 else None
        if node in self.nodes:
            return str(node)
        options = ", ".join(self._name("nodes", n) for n in self.nodes)
        suggestion = self._suggest("nodes", answer)
        if suggestion:
            raise FieldError("node_suggest", suggestion=suggestion, options=options)
        raise FieldError("node", options=options)

    def listed(self, field: str, items: list[str], *, strict: bool = True) -> list[str]:
        """Glossary ids of the items; an unknown item is refused (strict) or left out."""
        ids: dict[str, None] = {}
        for item in items:
            found = self.glossary.canonical(field, item)
            found_ids = [found] if found else [e.id for e in self.glossary.mentioned(item, field)]
            if found_ids:
                ids.update(dict.fromkeys(i for i in found_ids if i))
                continue
            if not strict:
                continue
            kind = "sector" if field == "sectors" else "need"
            suggestion = self._suggest(field, item)
            if suggestion:
                raise FieldError(f"{kind}_suggest", item=item.strip(), suggestion=suggestion)
            examples = ", ".join(self._name(field, e.id or "") for e in self._entries(field)[:6])
            raise FieldError(kind, item=item.strip(), options=examples)
        return list(ids)

    def investment(self, answer: str) -> list[Any]:
        found = read_amount(answer)
        if found is None:
            raise FieldError("amount")
        amount, currency = found
        if currency is None:
            raise FieldError("currency")
        if amount <= 0:
            raise FieldError("amount_positive")
        return [amount, currency]

    def jobs(self, answer: str) -> int:
        numbers = _NUMBER.findall(answer)
        if len(numbers) != 1:
            raise FieldError("jobs")
        raw = re.sub(r"[,.'\u00a0 ](?=\d{3}(?!\d))", "", numbers[0])
        if not re.fullmatch(r"\d+", raw) or int(raw) <= 0:
            raise FieldError("jobs")  # -5, 0 and 5.5 are no number of jobs
        return int(raw)

    def contact(self, answer: str) -> list[str | None]:
        names: list[str] = []
        email = phone = None
        for part in (p.strip() for p in _CONTACT_SPLIT.split(answer)):
            if not part:
                continue
            digits = sum(c.isdigit() for c in part)
            if _EMAIL.fullmatch(part) and email is None:
                email = part
            elif (number := _PHONE.fullmatch(part)) and digits >= MIN_PHONE_DIGITS and not phone:
                phone = number["number"].strip()
            elif digits == 0 and sum(c.isalpha() for c in part) >= 2 and len(part) <= 100:
                names.append(part)
            else:
                raise FieldError("contact", item=part)
        if not (names or email or phone):
            raise FieldError("contact", item=answer)
        return [", ".join(names) or None, email, phone]

    # ------------------------------------------------------------------ what a model said
    def extracted(self, data: dict[str, Any]) -> dict[str, Any]:
        """The model's fields that pass the form's own checks; the others are left for the
        form to ask."""
        found: dict[str, Any] = {}
        for field in ("company", "node"):
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                with contextlib.suppress(FieldError):  # left for the form to ask
                    found[field] = self.read(field, value)
        for field in ("sectors", "needs"):
            items = data.get(field)
            if isinstance(items, list):
                ids = self.listed(field, [str(x) for x in items if str(x).strip()], strict=False)
                if ids:
                    found[field] = ids
        amount, currency = data.get("investment_amount"), data.get("investment_currency")
        if isinstance(amount, str):
            parsed = read_amount(amount)
            amount, currency = (parsed[0], parsed[1] or currency) if parsed else (None, None)
        code = _iso(str(currency or ""))
        if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0 and code:
            found["investment"] = [float(amount), code]
        jobs = data.get("expected_jobs")
        if isinstance(jobs, float) and jobs.is_integer():
            jobs = int(jobs)
        elif isinstance(jobs, str):
            with contextlib.suppress(FieldError):
                jobs = self.jobs(jobs)
        if isinstance(jobs, int) and not isinstance(jobs, bool) and jobs > 0:
            found["expected_jobs"] = jobs
        for field in ("country", "city", "title"):
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                found[field] = value.strip()
        return found

    # ------------------------------------------------------------------ helpers
    def _entries(self, list_name: str) -> list[Any]:
        return self.glossary.lists.get(list_name, [])

    def _name(self, list_name: str, key: str) -> str:
        return localized(list_name, key, self.language, self.glossary)

    def _suggest(self, list_name: str, value: str) -> str | None:
        """The localized name of the entry the value most resembles, if it resembles one."""
        from rapidfuzz import fuzz, process

        choices = {
            normalize(variant): entry.id
            for entry in self._entries(list_name)
            for variant in (*entry.variants(), entry.id or "")
            if entry.id and (list_name != "nodes" or entry.id in self.nodes)
        }
        key = normalize(value)
        if not key or not choices:
            return None
        best = process.extractOne(
            key, list(choices), scorer=fuzz.ratio, score_cutoff=SUGGESTION_CUTOFF
        )
        return self._name(list_name, str(choices[best[0]])) if best else None


def _iso(currency: str) -> str | None:
    code = currency.strip().upper()
    return code if code in CURRENCIES else currency_code(currency)
