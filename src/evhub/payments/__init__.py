"""Payments: a provider port (card acquirer), SEPA direct debit, and their bookkeeping."""
