"""Events: facts written to the outbox with the change they describe, and delivered from it.

`emit(session, kind, at, **data)` is how every domain records a fact; `docs/events.md` tells
the whole design (tables, ordering, checkpoints, delivery, retention, writing a consumer).
"""

from evhub.events.log import START, Event, EventLog, Position
from evhub.events.outbox import emit

__all__ = ["START", "Event", "EventLog", "Position", "emit"]
