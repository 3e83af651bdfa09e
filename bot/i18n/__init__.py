"""The one message catalogue: every string the assistant shows a person, in six languages.

Messages live in gettext `.po` files (`bot/i18n/locale/<lang>/LC_MESSAGES/zbrain.po`), one per
language, with symbolic message ids ("answer.abstain") so that code and translators share one
name for each sentence. Plural forms follow each language's rule (CLDR, through Babel), and
numbers, amounts of money and dates are formatted by Babel for the language.

```python
from bot import i18n
i18n.text("answer.abstain", "de")
i18n.plural("leads.count", 3, "fr", count=i18n.number(3, "fr"))
i18n.money(15_000_000, "EUR", "de")   # '15.000.000 €'
```
"""

from bot.i18n._catalogue import (
    LANGUAGE_NAMES,
    LANGUAGES,
    MissingMessageError,
    amount,
    babel_locale,
    catalogue_keys,
    date,
    has,
    language_name,
    large_number,
    list_of,
    money,
    number,
    percent,
    plural,
    supported,
    text,
)

__all__ = [
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "MissingMessageError",
    "amount",
    "babel_locale",
    "catalogue_keys",
    "date",
    "has",
    "language_name",
    "large_number",
    "list_of",
    "money",
    "number",
    "percent",
    "plural",
    "supported",
    "text",
]
