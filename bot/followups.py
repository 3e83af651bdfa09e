"""Follow-ups without a language model: "And the operating subsidy?", "What about 2027?",
"Who do I contact?" are read with the question that set the topic, not only the last one, so a
chain of follow-ups stays on the hydrogen policy instead of drifting to whatever the previous
follow-up's words match."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence

from bot.asks import places_named
from knowledge.glossary import Glossary
from retrieval.periods import asked_period, strip_periods

# A question this short may lean on the conversation for its subject.
FOLLOW_UP_CHARS = 60
# Openings that continue the previous question in each working language.
_CONTINUES = re.compile(
    r"^\s*(?:"
    r"and\b|also\b|plus\b|what about\b|how about\b|what if\b|same for\b"
    r"|und\b|auch\b|was ist mit\b|wie ist es mit\b|wie steht es mit\b|und was\b|und wie\b"
    r"|et\b|aussi\b|qu['’]en est-il\b|quid\b|et pour\b|et si\b|et le\b|et la\b|et les\b"
    r"|那么?|还有|另外|再问|以及|那如果|它的?|这个|该"
    r"|그럼|그러면|그리고|또|그건|이건|그\s"
    r"|ומה\b|מה לגבי\b|ואם\b|וגם\b|ומי\b|ו(?=[\u05d0-\u05ea]{2})"
    r")",
    re.IGNORECASE,
)
# Endings that ask "and what about …?" of the previous subject: 申报材料呢？, 신청 서류는요?
_CONTINUES_AT_END = re.compile(r"(?:呢|[은는]요)\s*[？?]?\s*$")
TOPICS_KEPT = 2000  # conversations whose last documents are remembered in memory


def is_follow_up(question: str, glossary: Glossary | None) -> bool:
    """Whether a question leans on the previous one: it is short and opens like a
    continuation, or it names no park term, sector or node of its own ("Who do I contact?")."""
    text = question.strip()
    if len(text) > FOLLOW_UP_CHARS:
        return False
    if _CONTINUES.match(text) or _CONTINUES_AT_END.search(text):
        return True
    if places_named(text):
        return False  # "郑州明天的天气怎么样？" has a subject of its own
    if glossary is None:
        return True
    return not (
        glossary.mentioned(text)
        or glossary.mentioned(text, "sectors")
        or glossary.mentioned(text, "nodes")
    )


def topic_question(question: str, earlier: Sequence[str], glossary: Glossary | None) -> str:
    """The question to retrieve for: a follow-up joined to the latest earlier question that set
    the topic itself (the first one when all are follow-ups). A period the follow-up names
    replaces the topic question's ("What about 2027?")."""
    if not earlier or not is_follow_up(question, glossary):
        return question
    anchor = next((q for q in reversed(earlier) if not is_follow_up(q, glossary)), earlier[0])
    if asked_period(question) is not None:
        anchor = strip_periods(anchor)
    return f"{anchor} {question}".strip()


class TopicMemory:
    """The documents each conversation's last question was answered from, so a follow-up
    prefers them (bounded; in memory, as a follow-up comes within minutes)."""

    def __init__(self, kept: int = TOPICS_KEPT) -> None:
        self.kept = kept
        self._documents: OrderedDict[tuple[str, str], list[str]] = OrderedDict()

    def remember(self, conversation: tuple[str, str], documents: Sequence[str]) -> None:
        if not documents:
            return
        self._documents[conversation] = list(documents)
        self._documents.move_to_end(conversation)
        while len(self._documents) > self.kept:
            self._documents.popitem(last=False)

    def documents(self, conversation: tuple[str, str]) -> list[str]:
        return list(self._documents.get(conversation, []))
