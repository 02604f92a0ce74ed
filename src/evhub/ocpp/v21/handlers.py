"""OCPP 2.1 messages a station sends to the CSMS: 2.0.1's handlers, and what 2.1 changed.

The handler is the 2.0.1 one over the library's 2.1 ChargePoint (its schemas validate every
frame both ways, its `call_result` classes answer 2.1's calls). A message whose 2.1 shape adds
what evhub uses is handled here: NotifyEVChargingNeeds (the car's V2X bounds, §Q); and
TransactionEvent records its transaction as a 2.1 one, so that the planner may discharge it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ocpp.routing import on
from ocpp.v21 import ChargePoint, call, call_result
from ocpp.v21.enums import Action, NotifyEVChargingNeedsStatusEnumType

from evhub.ocpp.v21 import translate
from evhub.ocpp.v201.handlers import V201Handler
from evhub.planning import vehicle_needs

log = logging.getLogger("evhub.ocpp")


class V21Handler(V201Handler):
    ocpp_version = "2.1"
    # The 2.1 library's: schemas, and the result classes of the calls evhub makes.
    _call = call
    _call_result = call_result
    _ocpp_version = ChargePoint._ocpp_version
    transaction_event_values = staticmethod(translate.transaction_event)

    @on(Action.notify_ev_charging_needs)
    async def on_notify_ev_charging_needs(
        self, charging_needs: dict[str, Any], evse_id: int, **kw: Any
    ) -> call_result.NotifyEVChargingNeeds:
        """ISO 15118 needs (K15), with a bidirectional session's V2X bounds (OCPP 2.1 §Q)."""
        await self._record("ev_charging_needs", str(evse_id), json.dumps(charging_needs))
        need = translate.ev_needs(charging_needs)
        car = translate.car_v2x(charging_needs)
        async with self.ctx.uow() as s:
            recorded = await vehicle_needs.declare_vehicle_need(
                s, self.id, evse_id, need, self.now(), car
            )
        status = NotifyEVChargingNeedsStatusEnumType
        return call_result.NotifyEVChargingNeeds(
            status=status.accepted if recorded else status.rejected
        )
