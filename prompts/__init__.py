"""Prompt templates, loaded by name."""
