"""The operator console: every page router, mounted at the root of the application."""

from __future__ import annotations

from fastapi import APIRouter

from evhub.web import (
    account,
    account_actions,
    account_bills,
    account_car_trips,
    account_cars,
    account_charging,
    account_v2g,
    billing,
    energy,
    fleet,
    login,
    overview,
    reports,
    reservations,
    roaming,
    sites,
    stations,
    tickets,
    transactions,
)

router = APIRouter(include_in_schema=False)
for module in (
    login, overview, sites, stations, transactions, reservations, tickets, reports, account,
    account_actions, account_charging, account_bills, billing, roaming, account_cars,
    account_car_trips, fleet, account_v2g, energy,
):  # fmt: skip
    router.include_router(module.router)
