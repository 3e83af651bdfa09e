"""The error boundary around the handler: whatever fails inside, the person gets a reply.

Every other RAG bot's most common complaint is silence after an error. Here an exception
anywhere in the handler ends the exchange with a localized "something went wrong —
reference R-…" Reply, and the log holds the same reference with the traceback, so a user's
screenshot leads straight to the cause.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing

from bot.messages import IncomingMessage, Reply, ReplyUpdate
from bot.streaming import failure_reply

log = logging.getLogger(__name__)


async def guarded(
    updates: AsyncGenerator[ReplyUpdate, None],
    message: IncomingMessage,
    language: Callable[[], str],
) -> AsyncIterator[ReplyUpdate]:
    """`updates`, ending in exactly one Reply; a failure becomes the error Reply.

    `language` is asked only on failure: the language the exchange had reached by then."""
    answered = False
    try:
        async with aclosing(updates):
            # Read to the end even after the Reply: an abandoned generator is finalized later,
            # on whatever loop is still running, instead of here.
            async for update in updates:
                if answered:
                    continue
                yield update
                answered = isinstance(update, Reply)
    except Exception:
        reply = failure_reply(language())
        log.exception(
            "reference %s: the handler failed on a %s message in conversation %s",
            reply.id,
            message.platform,
            message.conversation_id,
        )
        if not answered:
            yield reply
        return
    if answered:
        return
    reply = failure_reply(language())
    log.error("reference %s: the handler ended without a reply", reply.id)
    yield reply
