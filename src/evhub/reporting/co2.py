"""CO2 avoided by charging electric cars instead of driving the same distance on petrol.

avoided_kg = km * THERMAL_KG_PER_KM - energy_kwh * GRID_KG_PER_KWH, with km = energy_kwh /
EV_KWH_PER_KM. The factors and their sources are printed in every report.
"""

from __future__ import annotations

# Electric car consumption at the socket, charging losses included (a mid-size car).
EV_KWH_PER_KM = 0.18
# Thermal reference: a new petrol car sold in France, 120 g CO2/km at the exhaust
# (WLTP average of new cars registered in France, ADEME "Car Labelling" 2022),
# raised by 20 % for the fuel's production and distribution (well to tank).
THERMAL_KG_PER_KM = 0.144
# Electricity supplied in France: 0.052 kg CO2e/kWh (ADEME Base Empreinte, "Électricité -
# mix moyen consommation", 2022).
GRID_KG_PER_KWH = 0.052

METHOD = (
    f"CO2 avoided = distance x {THERMAL_KG_PER_KM} kg/km (petrol car: 120 g/km WLTP, ADEME "
    f"Car Labelling 2022, +20 % well-to-tank) - energy x {GRID_KG_PER_KWH} kg/kWh (French "
    f"mix, ADEME Base Empreinte 2022); distance = energy / {EV_KWH_PER_KM} kWh/km."
)


def avoided_kg(energy_kwh: float) -> float:
    km = energy_kwh / EV_KWH_PER_KM
    return km * THERMAL_KG_PER_KM - energy_kwh * GRID_KG_PER_KWH
