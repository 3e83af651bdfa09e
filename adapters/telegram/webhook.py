"""The webhook: Telegram posts each update to ZBRAIN_TELEGRAM_WEBHOOK_PATH on `zbrain serve`'s
HTTP server, with the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`. A
request without it is refused (403) before anything is read; a good one is queued for the
Application and answered at once, as Telegram wants."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.http import RequestHandler

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_handler(application: Application, secret: str) -> RequestHandler:  # type: ignore[type-arg]
    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("a Telegram webhook request without the right secret was refused")
            return web.Response(status=403, text="forbidden")
        if not application.running:
            return web.Response(status=503, text="starting")
        try:
            payload = await request.json()
            update = Update.de_json(payload, application.bot)
        except Exception:  # noqa: BLE001 - not an update: Telegram never sends this
            log.warning("a Telegram webhook request was not an update")
            return web.Response(status=400, text="not an update")
        await application.update_queue.put(update)
        return web.Response(text="ok")

    return handle
