"""Log lines a station cannot forge: control characters in logged values are escaped.

A station id comes from the WebSocket path, so `CP-1%0Aevent=connected` would otherwise write a
line of its own. Every gateway module logs through the one `evhub.ocpp` logger, and the filter
installed on it escapes every string argument of every record, so no call site can forget.
"""

from __future__ import annotations

import logging

GATEWAY_LOGGER = "evhub.ocpp"


def printable(text: str) -> str:
    """`text` with control, format and line/paragraph separator characters as escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class EscapeControlCharacters(logging.Filter):
    """Rewrites a record's string arguments (and a non-constant message) with `printable`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = printable(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_safe(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _safe(v) for k, v in record.args.items()}
        return True


def _safe(value: object) -> object:
    """Numbers stay numbers (for %d); anything else is logged as its escaped text."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, bytes):
        return printable(value.decode("utf-8", "backslashreplace"))
    return printable(value if isinstance(value, str) else str(value))


def gateway_logger() -> logging.Logger:
    """The gateway's logger, with the escaping filter installed once."""
    log = logging.getLogger(GATEWAY_LOGGER)
    if not any(isinstance(f, EscapeControlCharacters) for f in log.filters):
        log.addFilter(EscapeControlCharacters())
    return log
