"""Journal entries and their lines.

An entry is written after its lines, and the database refuses an entry whose lines do not
balance per currency, a line added to an entry already written, and any change or deletion
(migration 0018: triggers on both backends; the lines' foreign key to their entry is checked at
commit, so a line without its entry cannot be committed either). The source reference is
unique: the fact an entry describes is posted once, whatever the retries.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime

AMOUNT = Numeric(14, 4)


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_ref: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(200))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class JournalLine(Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0", name="not_negative"),
        CheckConstraint("(debit = 0) <> (credit = 0)", name="one_side"),
        CheckConstraint("length(currency) = 3", name="currency_iso4217"),
        Index("ix_journal_lines_account_currency", "account", "currency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Checked at commit (DEFERRABLE INITIALLY DEFERRED): lines are written before their entry.
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("journal_entries.id", deferrable=True, initially="DEFERRED"), index=True
    )
    account: Mapped[str] = mapped_column(String(64))
    debit: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3))
