"""The Telegram adapter: overseas partners talk to the assistant through a Telegram bot
(python-telegram-bot 22, Bot API 10).

Modules, each with one job: `settings` (environment), `plugin` (the `zbrain.adapters` entry
point), `application` (the PTB Application as a `zbrain serve` service, polling or webhook),
`handlers` (updates in, replies out), `translate` (update → IncomingMessage), `groups` (when a
group is spoken to, and its audience), `commands` (commands → core actions, the menus),
`render` / `split` (HTML, 4096-character chunks), `sinks` (streaming by drafts or edits),
`outgoing` (sending with Telegram's limits), `callbacks` (buttons in 64 bytes), `poster`
(`telegram:CHAT_ID`), `webhook` and `cli` (`zbrain telegram …`).

This package module stays free of PTB imports: `zbrain` loads the plugin for every command.
"""

PLATFORM = "telegram"
# The hint a message from a group bound to a node carries; the plugin maps it to partner.
BOUND_GROUP_HINT = "telegram_bound_group"
