"""The live event feed: bus events as server-sent events."""
