"""OCPP 2.0.1 messages a station sends to the CSMS; each handler calls one service."""

from __future__ import annotations

import json
import logging
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action, DataTransferStatusEnumType

from evhub.assets import service as assets
from evhub.charging import badges
from evhub.charging import service as charging
from evhub.charging.writer import MeterBatchItem
from evhub.ocpp.base import CsmsEndpoint
from evhub.ocpp.timestamps import format_time, parse_time
from evhub.ocpp.v201.translate import (
    ev_needs,
    id_token_info,
    samples,
    signed_readings,
    transaction_event,
)
from evhub.planning import vehicle_needs
from evhub.reservations import lifecycle as bookings

log = logging.getLogger("evhub.ocpp")


class V201Handler(CsmsEndpoint, ChargePoint):
    ocpp_version = "2.0.1"
    # A later version whose TransactionEvent is the same message gives its own translation.
    transaction_event_values = staticmethod(transaction_event)

    @on(Action.boot_notification)
    async def on_boot(
        self, charging_station: dict[str, Any], reason: str, **kw: Any
    ) -> call_result.BootNotification:
        now = self.now()
        decision = await self.ctx.station_writer.submit(
            lambda s: assets.record_boot(
                s,
                self.id,
                now,
                self.ctx.heartbeat_interval_s,
                vendor=charging_station["vendor_name"],
                model=charging_station["model"],
                serial_number=charging_station.get("serial_number"),
                firmware_version=charging_station.get("firmware_version"),
                reason=reason,
            )
        )
        accepted = decision.status == "Accepted"
        log.info("station=%s event=boot status=%s reason=%s", self.id, decision.status, reason)
        return call_result.BootNotification(
            current_time=format_time(now),
            interval=decision.interval_s if accepted else self.ctx.pending_retry_interval_s,
            status=decision.status,
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        now = self.now()
        await self.ctx.station_writer.submit(lambda s: assets.touch(s, self.id, now))
        return call_result.Heartbeat(current_time=format_time(now))

    @on(Action.status_notification)
    async def on_status(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **kw: Any
    ) -> call_result.StatusNotification:
        now = self.now()
        at = parse_time(timestamp)
        await self.ctx.station_writer.submit(
            lambda s: assets.record_status(
                s, self.id, evse_id, connector_id, connector_status, at, now
            )
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **kw: Any) -> call_result.Authorize:
        auth = await badges.authorize_badge(
            self.ctx.uow, self.ctx.foreign_tokens, id_token["id_token"], self.now(), self.id
        )
        return call_result.Authorize(id_token_info=id_token_info(auth))

    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        **kw: Any,
    ) -> call_result.TransactionEvent:
        values = self.transaction_event_values(
            self.id, event_type, timestamp, trigger_reason, seq_no, transaction_info, kw
        )
        now = self.now()
        async with self.ctx.uow() as s:
            if values.stop is not None:
                outcome = await charging.close_transaction(s, now, values.stop, values.start)
            elif values.update is not None:
                outcome = await charging.update_transaction(s, now, values.update, values.start)
            else:
                outcome = await charging.open_transaction(s, now, values.start)
        tx = outcome.transaction
        if tx.state == "active":
            self.transaction_pks[str(tx.evse_id)] = tx.id
        elif self.transaction_pks.get(str(tx.evse_id)) == tx.id:
            del self.transaction_pks[str(tx.evse_id)]
        uid = (kw.get("id_token") or {}).get("id_token")
        auth = await badges.settle(self.ctx.foreign_tokens, outcome.authorization, uid, self.id)
        # idTokenInfo only when the event carried an idToken (E01, E02).
        return call_result.TransactionEvent(id_token_info=id_token_info(auth) if auth else None)

    @on(Action.reservation_status_update)
    async def on_reservation_status_update(
        self, reservation_id: int, reservation_update_status: str, **kw: Any
    ) -> call_result.ReservationStatusUpdate:
        async with self.ctx.uow() as s:
            await bookings.reservation_status_update(
                s, self.id, reservation_id, reservation_update_status, self.now()
            )
        return call_result.ReservationStatusUpdate()

    @on(Action.meter_values)
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]]
    ) -> call_result.MeterValues:
        data = samples(meter_value)
        tx_pk = self.transaction_pks.get(str(evse_id)) if evse_id else None
        if tx_pk is None and evse_id:
            async with self.ctx.uow() as s:
                tx_pk = await charging.active_transaction_pk(s, self.id, evse_id)
        await self.ctx.meter_writer.write(
            MeterBatchItem(self.id, evse_id, tx_pk, data, signed_readings(meter_value))
        )
        if tx_pk is not None:
            self.transaction_pks[str(evse_id)] = tx_pk
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **kw: Any) -> call_result.DataTransfer:
        detail = f"{kw.get('message_id') or ''} {json.dumps(kw.get('data'))}".strip()
        await self._record("data_transfer", vendor_id, detail)
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    async def on_firmware_status(
        self, status: str, **kw: Any
    ) -> call_result.FirmwareStatusNotification:
        await self._record("firmware", status, request_id=kw.get("request_id"))
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    async def on_log_status(self, status: str, **kw: Any) -> call_result.LogStatusNotification:
        await self._record("log", status, request_id=kw.get("request_id"))
        return call_result.LogStatusNotification()

    @on(Action.security_event_notification)
    async def on_security_event(
        self, type: str, timestamp: str, **kw: Any
    ) -> call_result.SecurityEventNotification:
        await self._record("security", type, kw.get("tech_info") or "", parse_time(timestamp))
        return call_result.SecurityEventNotification()

    @on(Action.notify_report)
    async def on_notify_report(
        self, request_id: int, generated_at: str, seq_no: int, **kw: Any
    ) -> call_result.NotifyReport:
        report = kw.get("report_data") or []
        detail = json.dumps({"seq_no": seq_no, "tbc": kw.get("tbc", False), "report": report})
        await self._record("report", "Received", detail, parse_time(generated_at), request_id)
        return call_result.NotifyReport()

    @on(Action.notify_event)
    async def on_notify_event(
        self, generated_at: str, seq_no: int, event_data: list[dict[str, Any]], **kw: Any
    ) -> call_result.NotifyEvent:
        for item in event_data:
            component = item.get("component", {}).get("name", "")
            variable = item.get("variable", {}).get("name", "")
            status = f"{component}.{variable}={item.get('actual_value', '')}"[:64]
            await self._record("event", status, json.dumps(item), parse_time(item["timestamp"]))
        return call_result.NotifyEvent()

    @on(Action.notify_ev_charging_needs)
    async def on_notify_ev_charging_needs(
        self, charging_needs: dict[str, Any], evse_id: int, **kw: Any
    ) -> call_result.NotifyEVChargingNeeds:
        """ISO 15118 needs (K15): the car's own energy, departure and battery size."""
        await self._record("ev_charging_needs", str(evse_id), json.dumps(charging_needs))
        need = ev_needs(charging_needs)
        async with self.ctx.uow() as s:
            recorded = await vehicle_needs.declare_vehicle_need(
                s, self.id, evse_id, need, self.now()
            )
        return call_result.NotifyEVChargingNeeds(status="Accepted" if recorded else "Rejected")
