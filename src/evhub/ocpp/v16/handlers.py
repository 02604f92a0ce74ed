"""OCPP 1.6J messages a station sends to the CSMS; each handler calls one service."""

from __future__ import annotations

import logging
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, DataTransferStatus

from evhub.assets import service as assets
from evhub.charging import badges
from evhub.charging import service as charging
from evhub.charging.writer import MeterBatchItem
from evhub.errors import NotFound
from evhub.ocpp.base import CsmsEndpoint
from evhub.ocpp.timestamps import format_time, parse_time
from evhub.ocpp.v16.translate import (
    id_tag_info,
    samples,
    signed_readings,
    transaction_start,
    transaction_stop,
)

log = logging.getLogger("evhub.ocpp")


class V16Handler(CsmsEndpoint, ChargePoint):
    ocpp_version = "1.6"

    @on(Action.boot_notification)
    async def on_boot(
        self, charge_point_vendor: str, charge_point_model: str, **kw: Any
    ) -> call_result.BootNotification:
        now = self.now()
        decision = await self.ctx.station_writer.submit(
            lambda s: assets.record_boot(
                s,
                self.id,
                now,
                self.ctx.heartbeat_interval_s,
                vendor=charge_point_vendor,
                model=charge_point_model,
                serial_number=kw.get("charge_point_serial_number"),
                firmware_version=kw.get("firmware_version"),
            )
        )
        interval = (
            decision.interval_s
            if decision.status == "Accepted"
            else self.ctx.pending_retry_interval_s
        )
        log.info("station=%s event=boot status=%s", self.id, decision.status)
        return call_result.BootNotification(
            current_time=format_time(now), interval=interval, status=decision.status
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        now = self.now()
        await self.ctx.station_writer.submit(lambda s: assets.touch(s, self.id, now))
        return call_result.Heartbeat(current_time=format_time(now))

    @on(Action.status_notification)
    async def on_status(
        self, connector_id: int, error_code: str, status: str, **kw: Any
    ) -> call_result.StatusNotification:
        now = self.now()
        at = parse_time(kw["timestamp"]) if kw.get("timestamp") else now
        info = " ".join(x for x in (kw.get("info"), kw.get("vendor_error_code")) if x) or None
        await self.ctx.station_writer.submit(
            lambda s: assets.record_status(
                s, self.id, connector_id, 1 if connector_id else 0, status, at, now,
                error_code=None if error_code == "NoError" else error_code, info=info,
            )
        )  # fmt: skip
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        auth = await badges.authorize_badge(
            self.ctx.uow, self.ctx.foreign_tokens, id_tag, self.now(), self.id
        )
        return call_result.Authorize(id_tag_info=id_tag_info(auth))

    @on(Action.start_transaction)
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kw: Any
    ) -> call_result.StartTransaction:
        start = transaction_start(
            self.id, connector_id, id_tag, meter_start, timestamp, kw.get("reservation_id")
        )
        async with self.ctx.uow() as s:
            opened = await charging.open_transaction(s, self.now(), start)
        tx = opened.transaction
        auth = await badges.settle(self.ctx.foreign_tokens, opened.authorization, id_tag, self.id)
        assert auth is not None  # 1.6 starts always carry an idTag
        self.transaction_pks[str(tx.id)] = tx.id
        log.info(
            "station=%s event=start_transaction tx=%s duplicate=%s status=%s",
            self.id, tx.id, opened.duplicate, auth.status,
        )  # fmt: skip
        return call_result.StartTransaction(transaction_id=tx.id, id_tag_info=id_tag_info(auth))

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **kw: Any
    ) -> call_result.StopTransaction:
        stop = transaction_stop(
            self.id, transaction_id, meter_stop, timestamp, kw.get("reason"), kw.get("id_tag"),
            kw.get("transaction_data") or [],
        )  # fmt: skip
        try:
            async with self.ctx.uow() as s:
                outcome = await charging.close_transaction(s, self.now(), stop)
        except NotFound:
            # Never make a station retry a stop forever (§4.10): acknowledge and log it.
            log.warning("station=%s event=stop_unknown_transaction tx=%s", self.id, transaction_id)
            return call_result.StopTransaction()
        self.transaction_pks.pop(str(transaction_id), None)
        auth = outcome.authorization
        return call_result.StopTransaction(id_tag_info=id_tag_info(auth) if auth else None)

    @on(Action.meter_values)
    async def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **kw: Any
    ) -> call_result.MeterValues:
        data = samples(meter_value)
        ocpp_tx = kw.get("transaction_id")
        tx_pk = None
        if ocpp_tx is not None:
            tx_pk = self.transaction_pks.get(str(ocpp_tx))
            if tx_pk is None:
                async with self.ctx.uow() as s:
                    tx_pk = await charging.transaction_pk(s, self.id, str(ocpp_tx))
        await self.ctx.meter_writer.write(
            MeterBatchItem(self.id, connector_id, tx_pk, data, signed_readings(meter_value))
        )
        if tx_pk is not None:
            self.transaction_pks[str(ocpp_tx)] = tx_pk
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **kw: Any) -> call_result.DataTransfer:
        # No vendor extension is supported yet (§4.3): say so rather than pretend.
        async with self.ctx.uow() as s:
            await assets.record_station_event(
                s, self.id, "data_transfer", vendor_id, self.now(),
                detail=f"{kw.get('message_id') or ''} {kw.get('data') or ''}".strip(),
            )  # fmt: skip
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    async def on_firmware_status(self, status: str) -> call_result.FirmwareStatusNotification:
        await self._record("firmware", status)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status(self, status: str) -> call_result.DiagnosticsStatusNotification:
        await self._record("diagnostics", status)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.log_status_notification)
    async def on_log_status(self, status: str, **kw: Any) -> call_result.LogStatusNotification:
        await self._record("log", status, request_id=kw.get("request_id"))
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    async def on_signed_firmware_status(
        self, status: str, **kw: Any
    ) -> call_result.SignedFirmwareStatusNotification:
        await self._record("firmware", status, request_id=kw.get("request_id"))
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.security_event_notification)
    async def on_security_event(
        self, type: str, timestamp: str, **kw: Any
    ) -> call_result.SecurityEventNotification:
        await self._record("security", type, kw.get("tech_info") or "", parse_time(timestamp))
        return call_result.SecurityEventNotification()
