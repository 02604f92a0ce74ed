"""Maintenance: fault detection, tickets, and availability figures."""
