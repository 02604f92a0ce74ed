"""CO2 avoided by charging electric cars instead of driving the same distance on petrol.

avoided_kg = km * THERMAL_KG_PER_KM - energy_kwh * GRID_KG_PER_KWH, with km = energy_kwh /
EV_KWH_PER_KM. The factors and their sources are printed in every report; they are yearly
figures, to be reviewed against the current edition of their source.
"""

from __future__ import annotations

# Electric car consumption at the socket, charging losses included (a mid-size car).
EV_KWH_PER_KM = 0.18
# Thermal reference: a petrol car emitting 120 g CO2/km at the exhaust (WLTP; the order of
# new petrol cars sold in France, ADEME Car Labelling), raised by 20 % for producing and
# delivering the fuel (well to tank).
THERMAL_KG_PER_KM = 0.144
# Electricity taken from the French grid: the average consumption mix of mainland France,
# ADEME Base Carbone "Électricité - mix moyen - consommation" (about 0.05 kg CO2e/kWh in the
# early 2020s; RTE's yearly balance gives the same order).
GRID_KG_PER_KWH = 0.052

METHOD = (
    f"CO2 avoided = distance x {THERMAL_KG_PER_KM} kg/km (petrol car: 120 g/km at the exhaust, "
    f"WLTP, ADEME Car Labelling order of magnitude, +20 % well-to-tank) - energy x "
    f"{GRID_KG_PER_KWH} kg/kWh (mainland France average consumption mix, ADEME Base Carbone); "
    f"distance = energy / {EV_KWH_PER_KM} kWh/km (electric car, losses included)."
)


def avoided_kg(energy_kwh: float) -> float:
    km = energy_kwh / EV_KWH_PER_KM
    return km * THERMAL_KG_PER_KM - energy_kwh * GRID_KG_PER_KWH
