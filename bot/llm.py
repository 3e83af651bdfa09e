"""An OpenAI-compatible chat model behind timeouts, retries and a circuit breaker.

Retries with exponential backoff on 429 and 5xx are the openai client's own
(`max_retries`); the breaker stops us calling a model that keeps failing, so answers come
from the extractive composer at once instead of after every timeout.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from bot.settings import Settings


class LLMUnavailable(Exception):
    """The model failed or the breaker is open; callers fall back to extractive answers."""


class CircuitBreaker:
    def __init__(self, failures: int, cooldown: float, clock: Any = time.monotonic) -> None:
        self.threshold = failures
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None

    @property
    def is_open(self) -> bool:
        if self.opened_at is None:
            return False
        # After the cooldown the breaker is half-open: the next call may try again.
        return self.clock() - self.opened_at < self.cooldown

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self.clock()


class LLMClient:
    def __init__(self, settings: Settings) -> None:
        from openai import AsyncOpenAI

        assert settings.llm_model and settings.openai_api_key
        self.model = settings.llm_model
        self._client = AsyncOpenAI(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key.get_secret_value(),
            timeout=settings.llm_timeout,
            max_retries=settings.llm_retries,
        )
        self.breaker = CircuitBreaker(settings.llm_breaker_failures, settings.llm_breaker_seconds)

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """Refuse while the breaker is open; count each call's outcome on the breaker."""
        import openai

        if self.breaker.is_open:
            raise LLMUnavailable("the language model is failing; circuit breaker open")
        try:
            yield
        except openai.APIError as exc:
            self.breaker.failure()
            raise LLMUnavailable(f"language model request failed: {type(exc).__name__}") from exc
        self.breaker.success()

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 400) -> str:
        with self._guarded():
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                temperature=0,
                max_tokens=max_tokens,  # type: ignore[arg-type]
            )
        return (response.choices[0].message.content or "").strip()

    async def stream(
        self, messages: list[dict[str, str]], *, max_tokens: int = 800
    ) -> AsyncIterator[str]:
        """Yield text deltas as they arrive."""
        with self._guarded():
            stream = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                temperature=0,
                max_tokens=max_tokens,  # type: ignore[arg-type]
                stream=True,
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

    async def aclose(self) -> None:
        """Close the pooled connections. Call it on the event loop that used the client,
        before that loop ends: a connection left open belongs to a loop that is gone."""
        await self._client.close()


def make_llm(settings: Settings) -> LLMClient | None:
    return LLMClient(settings) if settings.llm_model else None


@asynccontextmanager
async def open_llm(settings: Settings) -> AsyncIterator[LLMClient | None]:
    """The configured model's client (None without one) for work on the running loop, closed
    when the work is done: a one-shot command's `asyncio.run` around this leaves nothing open."""
    llm = make_llm(settings)
    try:
        yield llm
    finally:
        if llm is not None:
            await llm.aclose()
