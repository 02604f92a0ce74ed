"""Operator console and driver pages (server-rendered)."""
