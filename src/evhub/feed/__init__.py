"""The live event feed: the event log as server-sent events."""
