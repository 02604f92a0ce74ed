"""Charge detail records from stored transactions: priced by the site's tariff, issued once
with their event, immutable in the database, corrected by a credit and a new CDR, carrying
the station's signed meter data verified; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.billing import cdrs, service
from evhub.billing.issuer import CdrIssuer
from evhub.billing.models import CdrRecord
from evhub.billing.tariff import TariffBody
from evhub.charging import service as charging
from evhub.charging.samples import ENERGY_REGISTER, Sample, SignedReading
from evhub.clock import FrozenClock
from evhub.db import create_engine, session_factory
from evhub.errors import Conflict
from evhub.events import Event
from evhub.events.models import OutboxEvent
from evhub.uow import UnitOfWork

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # 10:00 in Paris
PARTY = service.Party("FR", "EVH")
TARIFF = {
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": "0.25", "vat": "20", "step_size": 1}]},
        {"price_components": [{"type": "PARKING_TIME", "price": "2", "vat": "20", "step_size": 1}]},
    ],
}


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


def register(minutes: int, wh: int) -> Sample:
    return Sample(T0 + timedelta(minutes=minutes), ENERGY_REGISTER, float(wh), "Wh")


async def charge(
    uow: UnitOfWork, signed: tuple[SignedReading, ...] = (), station: str = "CP-1"
) -> int:
    """A site with the tariff, a driver's token, and a charge: 10 kWh in an hour, then half an
    hour parked; the transaction's id."""
    async with uow() as s:
        tariff = await service.create_tariff(s, T0, PARTY, TariffBody.model_validate(TARIFF))
        site = await assets.create_site(s, T0, "Quai 9", "Europe/Paris", 100.0)
        await assets.update_site(s, site.id, T0, tariff_id=tariff.id)
        await assets.create_station(s, T0, station, site.id, "secret-password-1")
        driver = await accounts.create_driver(s, "Ada", f"ada-{station}@example.org", "fleet", T0)
        await accounts.create_token(s, f"TOK-{station}", "ISO14443", "Accepted", T0, driver.id)
    async with uow() as s:
        start = charging.TransactionStart(
            station, 1, 1, T0, 1000, f"TOK-{station}", "2.0.1", station_transaction_id="tx-1"
        )
        tx = (await charging.open_transaction(s, T0, start)).transaction
        step = charging.Step(1, "Updated", "MeterValuePeriodic", T0 + timedelta(minutes=60))
        update_ = charging.TransactionUpdate(
            station, "tx-1", step, samples=(register(30, 6000), register(60, 11000))
        )
        await charging.update_transaction(s, T0, update_)
        end = T0 + timedelta(minutes=90)
        stop = charging.TransactionStop(
            station, "tx-1", charging.Step(2, "Ended", "EVDeparted", end), 11000, "Local",
            signed=signed,
        )  # fmt: skip
        await charging.close_transaction(s, end, stop)
        return tx.id


async def issued_events(s: AsyncSession) -> list[dict[str, object]]:
    rows = await s.scalars(select(OutboxEvent.payload).where(OutboxEvent.kind == "cdr.issued"))
    return [json.loads(p) for p in rows]


async def test_an_ended_charge_gets_one_cdr_priced_by_the_site_tariff(uow: UnitOfWork) -> None:
    tx_id = await charge(uow)
    issuer = CdrIssuer(PARTY, FrozenClock(T0 + timedelta(hours=2)))
    event = Event("transaction.ended", T0, {"transaction_id": tx_id})
    for _ in range(2):  # a redelivered event changes nothing
        async with uow() as s:
            await issuer.handle(s, event)
    async with uow() as s:
        (cdr,) = (await s.scalars(select(CdrRecord))).all()
        assert (cdr.total_excl_vat, cdr.total_incl_vat) == (Decimal("3.5"), Decimal("4.2"))
        assert cdr.total_energy_kwh == Decimal(10) and cdr.total_parking_time_h == Decimal("0.5")
        assert cdr.driver_id is not None and cdr.currency == "EUR"
        periods = cdr.body["charging_periods"]
        assert [[d["type"] for d in p["dimensions"]] for p in periods] == [
            ["ENERGY", "TIME"],
            ["ENERGY", "PARKING_TIME"],
        ]
        assert cdr.body["tariffs"][0]["id"] == cdr.tariff_id
        assert cdr.body["total_cost"] == {"excl_vat": 3.5, "incl_vat": 4.2}
        assert cdr.body["cdr_token"]["uid"] == "TOK-CP-1"
        location = cdr.body["cdr_location"]
        assert (location["country"], location["connector_power_type"]) == ("FRA", "AC_3_PHASE")
        assert cdrs.ocpi_cdr(cdr)["id"] == cdr.ocpi_id
        assert await issued_events(s) == [
            {
                "cdr_id": cdr.id, "transaction_id": tx_id, "driver_id": cdr.driver_id,
                "total_incl_vat": "4.2000", "total_excl_vat": "3.5000", "currency": "EUR",
                "credit_of": None,
            }
        ]  # fmt: skip


async def test_a_cdr_row_cannot_be_updated_nor_deleted(uow: UnitOfWork) -> None:
    tx_id = await charge(uow)
    async with uow() as s:
        cdr = await cdrs.issue_for_transaction(s, T0, PARTY, tx_id)
    for statement in (
        update(CdrRecord).where(CdrRecord.id == cdr.id).values(total_excl_vat=0),
        delete(CdrRecord).where(CdrRecord.id == cdr.id),
    ):
        with pytest.raises(DBAPIError, match="immutable"):
            async with uow() as s:
                await s.execute(statement)


async def test_a_correction_credits_the_cdr_and_issues_a_new_one(uow: UnitOfWork) -> None:
    tx_id = await charge(uow)
    async with uow() as s:
        original = await cdrs.issue_for_transaction(s, T0, PARTY, tx_id)
    async with uow() as s:
        change = cdrs.Correction("meter read 2 kWh too much", energy_wh=8000)
        credit, fresh = await cdrs.correct(s, T0, PARTY, original.id, change)
    assert credit.credit_of == original.id and credit.origin == "credit"
    assert (credit.total_excl_vat, credit.total_incl_vat) == (Decimal("-3.5"), Decimal("-4.2"))
    assert credit.body["credit"] is True
    assert credit.body["credit_reference_id"] == original.ocpi_id
    assert fresh.replaces == original.id
    assert (fresh.total_excl_vat, fresh.total_energy_kwh) == (Decimal("3"), Decimal(8))
    with pytest.raises(Conflict):
        async with uow() as s:
            await cdrs.correct(s, T0, PARTY, original.id, cdrs.Correction("again"))
    async with uow() as s:
        credits = [e["credit_of"] for e in await issued_events(s)]
    assert credits == [None, original.id, None]


def ocmf_sample() -> tuple[str, str]:
    """A real OCMF record and its meter's public key (an Enercharge DC charger, from the
    pyocmf project's test resources)."""
    return (
        (DATA / "ocmf_enercharge.txt").read_text().strip(),
        (DATA / "ocmf_enercharge.key").read_text().strip(),
    )


@pytest.mark.parametrize("tampered", [False, True])
async def test_signed_meter_data_is_kept_and_verified(uow: UnitOfWork, tampered: bool) -> None:
    data, key = ocmf_sample()
    if tampered:
        data = data.replace('"RV":1.6086276e7', '"RV":1.6096276e7')
    signed = (SignedReading(T0 + timedelta(minutes=90), "Transaction.End", data, "", "OCMF", key),)
    tx_id = await charge(uow, signed)
    async with uow() as s:
        cdr = await cdrs.issue_for_transaction(s, T0, PARTY, tx_id)
    assert cdr.signed_data == data and cdr.signed_public_key == key
    assert cdr.signature_valid is (not tampered)
    assert cdr.body["signed_data"]["signed_values"][0]["signed_data"] == data


async def test_a_superseded_transaction_gets_its_cdr_up_to_its_last_reading(
    uow: UnitOfWork,
) -> None:
    """A start on a busy EVSE ends the transaction before it (its stop never came): that end
    is a `transaction.ended` like any other, priced up to its last reading."""
    async with uow() as s:
        tariff = await service.create_tariff(s, T0, PARTY, TariffBody.model_validate(TARIFF))
        site = await assets.create_site(s, T0, "Quai 9", "Europe/Paris", 100.0)
        await assets.update_site(s, site.id, T0, tariff_id=tariff.id)
        await assets.create_station(s, T0, "CP-S", site.id, "secret-password-1")
    async with uow() as s:
        first = charging.TransactionStart(
            "CP-S", 1, 1, T0, 0, None, "2.0.1", station_transaction_id="a",
            samples=(register(0, 0),),
        )  # fmt: skip
        old = (await charging.open_transaction(s, T0, first)).transaction
        step = charging.Step(1, "Updated", "MeterValuePeriodic", T0 + timedelta(minutes=20))
        up = charging.TransactionUpdate("CP-S", "a", step, samples=(register(20, 4000),))
        await charging.update_transaction(s, T0, up)
        later = T0 + timedelta(minutes=20)
        second = charging.TransactionStart(
            "CP-S", 1, 1, later, 4000, None, "2.0.1", station_transaction_id="b"
        )
        await charging.open_transaction(s, later, second)
    async with uow() as s:
        ended = [
            json.loads(p)
            for p in await s.scalars(
                select(OutboxEvent.payload).where(OutboxEvent.kind == "transaction.ended")
            )
        ]
        assert [e["transaction_id"] for e in ended] == [old.id]
        await CdrIssuer(PARTY, FrozenClock(T0)).handle(s, Event("transaction.ended", T0, ended[0]))
    async with uow() as s:
        (cdr,) = (await s.scalars(select(CdrRecord))).all()
    assert cdr.transaction_pk == old.id and cdr.driver_id is None
    assert (cdr.total_energy_kwh, cdr.total_excl_vat) == (Decimal(4), Decimal(1))
