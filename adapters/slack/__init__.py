"""The Slack adapter: Slack events → `IncomingMessage`, `Reply` → Slack (see README, "Slack").

Modules: `settings` (SLACK_* and ZBRAIN_SLACK_*), `plugin` (the entry point), `service` (bolt
app, transports, tracked work), `handlers` (bolt listeners), `responder` (the work after the
ack), `events` (events → IncomingMessage), `audience` (hints and audiences), `blocks` (Block
Kit), `sink` (native streaming with a chat.update fallback), `poster` (slack:#channel),
`commands` (/zbrain) and `manifest.yaml`.
"""
