"""Chat adapters: translate platform events to the core's neutral messages and back."""
