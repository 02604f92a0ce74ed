"""Double-entry bookkeeping: balanced journal entries, idempotent by their source."""
