"""REST and command-line shapes of billing: priced totals (the tariffs themselves are the OCPI
models of `billing.tariff`)."""

from __future__ import annotations

from pydantic import BaseModel

from evhub.billing.pricing import Cost, Costs
from evhub.billing.tariff import NonNegative


class PriceOut(BaseModel):
    """OCPI 2.2.1 types §16.5, both amounts always given."""

    excl_vat: NonNegative
    incl_vat: NonNegative

    @classmethod
    def of(cls, cost: Cost) -> PriceOut:
        return cls(excl_vat=cost.excl_vat, incl_vat=cost.incl_vat)


class CostsOut(BaseModel):
    """The totals of a CDR (OCPI 2.2.1 §10.3.1): energy in kWh, times in hours."""

    total_cost: PriceOut
    total_energy_cost: PriceOut
    total_time_cost: PriceOut
    total_parking_cost: PriceOut
    total_fixed_cost: PriceOut
    total_reservation_cost: PriceOut
    total_energy: NonNegative
    total_time: NonNegative
    total_parking_time: NonNegative

    @classmethod
    def of(cls, costs: Costs) -> CostsOut:
        return cls(
            total_cost=PriceOut.of(costs.total_cost),
            total_energy_cost=PriceOut.of(costs.total_energy_cost),
            total_time_cost=PriceOut.of(costs.total_time_cost),
            total_parking_cost=PriceOut.of(costs.total_parking_cost),
            total_fixed_cost=PriceOut.of(costs.total_fixed_cost),
            total_reservation_cost=PriceOut.of(costs.total_reservation_cost),
            total_energy=costs.total_energy,
            total_time=costs.total_time,
            total_parking_time=costs.total_parking_time,
        )
