"""EV battery model: how much power a car takes and what that does to its state of charge.

The taper follows the usual shape of real charging curves: the battery takes the full rate of its
charger up to a knee (about 80 % SoC on DC, 90 % on AC), then the power falls linearly to a small
trickle at 100 %. That is enough realism for a planner to see that the last kilowatt-hours are slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DC_TAPER_KNEE_SOC = 0.80
AC_TAPER_KNEE_SOC = 0.90
TAPER_FLOOR_SHARE = 0.05  # power at 100 % SoC, as a share of the charger's rate
FULL_TOLERANCE_SOC = 1e-4


@dataclass(frozen=True)
class ChargingNeed:
    """What a driver declares at plug-in (app input or ISO 15118): energy and departure."""

    energy_kwh: float
    departure: datetime | None


@dataclass
class SimEV:
    """A vehicle with a battery, an on-board AC charger and a DC inlet.

    `soc` and `target_soc` are fractions 0..1. `max_ac_kw` is the on-board charger's rating on
    `ac_phases` phases; on fewer phases it delivers proportionally less. With `v2g` the car accepts
    a negative offer (discharge) down to `min_soc`.
    """

    battery_kwh: float
    soc: float
    target_soc: float = 1.0
    max_ac_kw: float = 11.0
    ac_phases: int = 3
    max_dc_kw: float = 50.0
    v2g: bool = False
    max_discharge_kw: float = 0.0
    min_soc: float = 0.2
    departure: datetime | None = None
    declared_energy_kwh: float | None = None
    name: str = "ev"
    charged_kwh: float = 0.0
    discharged_kwh: float = 0.0

    def __post_init__(self) -> None:
        if self.battery_kwh <= 0:
            raise ValueError("battery_kwh must be positive")
        if not 0.0 <= self.soc <= 1.0 or not 0.0 <= self.target_soc <= 1.0:
            raise ValueError("soc and target_soc are fractions between 0 and 1")
        if self.ac_phases not in (1, 2, 3):
            raise ValueError("ac_phases must be 1, 2 or 3")

    @property
    def energy_to_target_kwh(self) -> float:
        """Energy the battery still takes before reaching `target_soc`."""
        return max(0.0, (self.target_soc - self.soc) * self.battery_kwh)

    @property
    def full(self) -> bool:
        return self.soc >= self.target_soc - FULL_TOLERANCE_SOC

    def need(self) -> ChargingNeed:
        """The need the driver declares: the explicit figure if any, else what fills to target."""
        energy = self.declared_energy_kwh
        if energy is None:
            energy = self.energy_to_target_kwh
        return ChargingNeed(energy_kwh=energy, departure=self.departure)

    def max_rate_kw(self, dc: bool, phases: int | None = None) -> float:
        """Rate of the car's own charger before taper (AC scaled to the phases in use)."""
        if dc:
            return self.max_dc_kw
        used = self.ac_phases if phases is None else min(phases, self.ac_phases)
        return self.max_ac_kw * used / self.ac_phases

    def accept_kw(self, offered_kw: float, dc: bool, phases: int | None = None) -> float:
        """Power the car draws when `offered_kw` is available (negative: asked to discharge)."""
        if offered_kw < 0:
            return self._accept_discharge_kw(offered_kw)
        if self.full:
            return 0.0
        rate = self.max_rate_kw(dc, phases)
        knee = DC_TAPER_KNEE_SOC if dc else AC_TAPER_KNEE_SOC
        if self.soc > knee:
            share = (self.soc - knee) / (1.0 - knee)
            rate *= 1.0 - share * (1.0 - TAPER_FLOOR_SHARE)
        return max(0.0, min(offered_kw, rate))

    def _accept_discharge_kw(self, offered_kw: float) -> float:
        if not self.v2g or self.soc <= self.min_soc:
            return 0.0
        return max(offered_kw, -self.max_discharge_kw)

    def advance(self, power_kw: float, seconds: float) -> float:
        """Apply `power_kw` for `seconds`; return the energy moved (kWh, negative when discharging).

        The state of charge is clamped to [min_soc or 0, target_soc], so the energy returned is what
        the battery actually took: a meter built on it never over-counts.
        """
        if seconds <= 0 or power_kw == 0:
            return 0.0
        energy = power_kw * seconds / 3600.0
        if energy > 0:
            energy = min(energy, self.energy_to_target_kwh)
            self.charged_kwh += energy
        else:
            floor = self.min_soc if self.v2g else self.soc
            energy = max(energy, min(0.0, (floor - self.soc) * self.battery_kwh))
            self.discharged_kwh -= energy
        self.soc = min(1.0, max(0.0, self.soc + energy / self.battery_kwh))
        return energy
