"""Leads in the core: division matching, policy offers, summaries, chat intake, digests."""
