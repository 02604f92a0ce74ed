"""Spot booking, access windows per user group, reservations on chargers, no-show/overstay."""
