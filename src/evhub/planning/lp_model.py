"""The smart-charging linear programme as arrays: column layout, constraint matrix, bounds.

Variables (one column each, only where a session may charge): `p[i, b]` power of session i in
block b (a run of slots, see `Layout`); for V2G sessions also `d[i, b]`, the discharge power, and
`s[i, b]`, the battery's energy at the end of block b relative to now; `u[i]` energy missing at
the end of the horizon; `z` the largest missing fraction; `P` the peak.

Named constraint groups (`h[i, b]` is the time session i spends plugged in within block b, `eta`
its efficiency: drawing p puts eta * p in the battery, feeding d takes d / eta out of it):
  peak       sum_i p[i, b] - d[i, b] - P <= 0                  every block (P <= site capacity)
  capacity   sum_i p[i, b] - d[i, b] <= capacity[b]            blocks with a lowered capacity;
                                                               with V2G, import sum_i p[i, b] and
                                                               export sum_i d[i, b] each within
                                                               capacity[b] in every block
  circuit    sum_{i in c} p[i, b] - d[i, b] <= circuit limit    every circuit and block
  energy     sum_b h[i, b] * (eta p[i, b] - d[i, b] / eta) + u[i] = need[i]   delivered <= need
             (a battery of known room: need[i] - surplus[i] <= ... <= room[i], see SessionDemand)
  battery    s[i, b] - s[i, b-1] - h[i, b] * (eta p[i, b] - d[i, b] / eta) = 0   V2G sessions;
             -discharge_room[i] <= s[i, b] <= battery_room[i]  (the floor and the full battery,
             at every block end, hence at every slot: power is constant within a block)
  fairness   u[i] - need[i] * z <= need[i] - target[i]          target < need only for a stay
                                                               that runs past the horizon

The whole model is assembled with vectorised numpy into one CSC matrix and handed to HiGHS in one
`passModel` call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from evhub.planning.model import FloatArray, PlanRequest

IntArray = npt.NDArray[np.int64]

INF = highspy.kHighsInf
EXACT_LEAD_MINUTES = 60.0
"""The first hour of the horizon keeps one block per slot, so that the as-soon-as-possible
stage shapes it exactly (a later block gets a flat profile)."""
EXACT_COLUMN_BUDGET = 20_000
"""Above this many power columns with exact blocks, the horizon after the first hour is cut into
coarser blocks of equal length (see `Layout`): with 15-minute slots over 24 h, about 200 vehicles
keep exact blocks and 1,000 get 1-hour blocks, solved in a few hundred ms instead of seconds."""
COARSE_BLOCK_MINUTES = (30.0, 60.0, 120.0)
V2G_COLUMN_BUDGET = 6_000
"""The same for requests with V2G, counting a charge, a discharge and a battery-state column per
session and block: about 50 cars keep exact blocks over 24 h of 15-minute slots, 100 get blocks
of an hour (the prices' own step) after the first hour."""
"""Block lengths tried, shortest first, for a request too large for exact blocks."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Column numbering of one request's LP over blocks of slots.

    Exact blocks: slots between two consecutive events (an arrival, a departure, a change of
    capacity or price) are interchangeable for every constraint and for stages 1-4, so the LP gives
    each block one power column per session (its constant power there); averaging any schedule
    over such a block keeps it feasible with the same stage 1-4 values, so the optima are exact.

    Coarse blocks (large requests): after the first hour, blocks of equal length regardless
    of events. A session plugged in for part of a block gets a constant power over that part, and
    the block's rows count it as if drawn over the whole block (with the block's lowest capacity):
    a restriction of the exact LP, so every solution still respects every limit in every slot,
    at the price of slightly pessimistic later blocks (re-planning corrects them as time passes).

    Slot 0 (the one about to be dispatched) and the slots of the first `EXACT_LEAD_MINUTES` are
    blocks of their own in both cases.
    """

    n_sessions: int
    horizon: int
    coarse: bool
    block_start: IntArray
    block_len: IntArray
    col_session: IntArray  # session of each power column (charge then discharge)
    col_block: IntArray  # block of each power column
    col_sign: FloatArray  # +1 charge, -1 discharge
    col_first: IntArray  # first slot of each power column (within its session's window)
    col_slots: IntArray  # slots each power column lasts
    s0: int  # first battery-state column (one per discharge column, same session and block)
    u0: int  # first unmet-energy column
    z: int
    peak: int

    @property
    def n_blocks(self) -> int:
        return int(self.block_start.size)

    @property
    def n_power(self) -> int:
        return int(self.col_session.size)

    @property
    def n_charge(self) -> int:
        return int((self.col_sign > 0).sum())

    @property
    def n_state(self) -> int:
        return self.u0 - self.s0

    @property
    def n_cols(self) -> int:
        return self.peak + 1


def _lead_slots(request: PlanRequest) -> int:
    return max(1, math.ceil(EXACT_LEAD_MINUTES / request.slot_minutes))


def _event_blocks(request: PlanRequest, lo: IntArray, hi: IntArray) -> IntArray:
    """Start slots of the exact blocks: every slot where something changes."""
    horizon = request.horizon_slots
    capacity = request.site.capacity_per_slot_kw(horizon)
    lead = _lead_slots(request)
    cuts = [np.arange(lead + 1), np.array([horizon]), lo, hi, np.flatnonzero(np.diff(capacity)) + 1]
    if request.price_per_kwh:
        prices = np.asarray(request.price_per_kwh[:horizon], dtype=np.float64)
        cuts.append(np.flatnonzero(np.diff(prices)) + 1)
    starts = np.unique(np.concatenate(cuts).astype(np.int64))
    return starts[starts < horizon]


def _grid_blocks(request: PlanRequest, block_slots: int) -> IntArray:
    """Start slots of coarse blocks: one per slot in the lead, then every `block_slots`."""
    lead = min(_lead_slots(request), request.horizon_slots)
    grid = np.arange(lead, request.horizon_slots, max(block_slots, 1), dtype=np.int64)
    return np.unique(np.concatenate((np.arange(lead, dtype=np.int64), grid)))


def _columns(starts: IntArray, horizon: int, lo: IntArray, hi: IntArray) -> tuple[IntArray, ...]:
    """Each session's power columns: (session, block, first slot, slots) of every block it meets."""
    first_block = np.searchsorted(starts, lo, side="right") - 1
    end_block = np.where(hi > lo, np.searchsorted(starts, hi, side="left"), first_block)
    count = (end_block - first_block).astype(np.int64)
    session = np.repeat(np.arange(lo.size, dtype=np.int64), count)
    offsets = np.concatenate(([0], np.cumsum(count)[:-1])).astype(np.int64)
    block = first_block[session] + (np.arange(session.size, dtype=np.int64) - offsets[session])
    ends = np.append(starts[1:], horizon)
    first = np.maximum(starts[block], lo[session])
    slots = np.minimum(ends[block], hi[session]) - first
    return session, block.astype(np.int64), first.astype(np.int64), slots.astype(np.int64)


def _choose_blocks(
    request: PlanRequest, lo: IntArray, hi: IntArray, max_exact_columns: int | None
) -> tuple[IntArray, bool]:
    """Exact blocks when the LP stays within `max_exact_columns` power columns (None: always),
    or within `V2G_COLUMN_BUDGET` columns with V2G (whatever `max_exact_columns`); else the
    finest coarse grid within that budget, else the coarsest. With V2G the import and export rows
    are apart, so counting a column over its whole block only restricts them, as without;
    circuits (net rows both ways) keep exact blocks."""
    exact = _event_blocks(request, lo, hi)
    v2g = any(s.v2g_max_discharge_kw > 0 for s in request.sessions)
    horizon = request.horizon_slots
    if max_exact_columns is None or (v2g and request.site.circuits):
        return exact, False  # a circuit's net rows need exact blocks once V2G may export
    per_column, budget = (3, V2G_COLUMN_BUDGET) if v2g else (1, max_exact_columns)
    if _columns(exact, horizon, lo, hi)[0].size * per_column <= budget:
        return exact, False
    for minutes in COARSE_BLOCK_MINUTES:
        starts = _grid_blocks(request, math.ceil(minutes / request.slot_minutes))
        if _columns(starts, horizon, lo, hi)[0].size * per_column <= budget:
            break
    return starts, True


def layout(request: PlanRequest, max_exact_columns: int | None = EXACT_COLUMN_BUDGET) -> Layout:
    """Number the columns of the request's LP (see `EXACT_COLUMN_BUDGET`)."""
    lo, hi = request.windows()
    starts, coarse = _choose_blocks(request, lo, hi, max_exact_columns)
    horizon = request.horizon_slots
    charge = _columns(starts, horizon, lo, hi)
    v2g = np.flatnonzero([s.v2g_max_discharge_kw > 0 for s in request.sessions]).astype(np.int64)
    discharge = _columns(starts, horizon, lo[v2g], hi[v2g])
    discharge = (v2g[discharge[0]], *discharge[1:])
    n_charge, n_discharge = charge[0].size, discharge[0].size
    n_power = n_charge + n_discharge
    n = len(request.sessions)
    session, block, first, slots = (
        np.concatenate((c, d)) for c, d in zip(charge, discharge, strict=True)
    )
    return Layout(
        n_sessions=n,
        horizon=horizon,
        coarse=coarse,
        block_start=starts,
        block_len=np.diff(np.append(starts, horizon)).astype(np.int64),
        col_session=session,
        col_block=block,
        col_sign=np.concatenate((np.ones(n_charge), -np.ones(n_discharge))),
        col_first=first,
        col_slots=slots,
        s0=n_power,
        u0=n_power + n_discharge,
        z=n_power + n_discharge + n,
        peak=n_power + n_discharge + n + 1,
    )


@dataclass(frozen=True, slots=True)
class Model:
    partial_targets: bool  # some stay runs past the horizon: its unmet energy may exceed z * need
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    matrix: sp.csc_array


def block_capacity_kw(request: PlanRequest, lay: Layout) -> FloatArray:
    """The site capacity of each block (its lowest slot's)."""
    capacity = request.site.capacity_per_slot_kw(lay.horizon)
    return np.asarray(np.minimum.reduceat(capacity, lay.block_start), dtype=np.float64)


def _column_bounds(
    request: PlanRequest, lay: Layout, capacity: FloatArray
) -> tuple[FloatArray, FloatArray]:
    sessions = request.sessions
    max_kw = np.array([s.max_power_kw for s in sessions], dtype=np.float64)
    v2g_kw = np.array([s.v2g_max_discharge_kw for s in sessions], dtype=np.float64)
    floors = request.floors_kw()
    charge = lay.col_sign > 0
    lower = np.zeros(lay.n_cols)
    upper = np.full(lay.n_cols, INF)
    lower[: lay.n_power] = np.where(charge, floors[lay.col_session], 0.0)
    upper[: lay.n_power] = np.where(charge, max_kw[lay.col_session], v2g_kw[lay.col_session])
    discharge_sessions = lay.col_session[lay.n_charge :]
    room = np.array([s.battery_room_kwh for s in sessions], dtype=np.float64)
    reserve = np.array([s.discharge_room_kwh for s in sessions], dtype=np.float64)
    lower[lay.s0 : lay.u0] = np.where(np.isfinite(reserve), -reserve, -INF)[discharge_sessions]
    upper[lay.s0 : lay.u0] = np.where(np.isfinite(room), room, INF)[discharge_sessions]
    cap_max = float(capacity.max())
    upper[lay.z] = 1.0
    lower[lay.peak] = min(request.site.peak_floor_kw, cap_max)
    upper[lay.peak] = cap_max
    return lower, upper


class _Rows:
    """Accumulates constraint groups as triplets with their row bounds."""

    def __init__(self) -> None:
        self.parts: list[tuple[IntArray, IntArray, FloatArray]] = []
        self.lower: list[FloatArray] = []
        self.upper: list[FloatArray] = []
        self.count = 0

    def group(
        self, r: IntArray, c: IntArray, v: FloatArray, lo: FloatArray, hi: FloatArray
    ) -> None:
        self.parts.append((r + self.count, c, v))
        self.lower.append(lo)
        self.upper.append(hi)
        self.count += lo.size


def _power_groups(rows: _Rows, request: PlanRequest, lay: Layout, capacity: FloatArray) -> None:
    """The peak, capacity and circuit groups: sums of power columns per block."""
    nb = lay.n_blocks
    has_v2g = bool((lay.col_sign < 0).any())
    cols = np.arange(lay.n_power, dtype=np.int64)
    blocks = np.arange(nb, dtype=np.int64)
    rows.group(
        np.concatenate((lay.col_block, blocks)),
        np.concatenate((cols, np.full(nb, lay.peak))),
        np.concatenate((lay.col_sign, -np.ones(nb))),
        np.full(nb, -INF),
        np.zeros(nb),
    )
    if has_v2g:  # import and export each within the capacity, in every block
        for direction in (1.0, -1.0):
            sel = lay.col_sign == direction
            rows.group(
                lay.col_block[sel], cols[sel], np.ones(int(sel.sum())), np.full(nb, -INF), capacity
            )
    else:  # only blocks whose capacity is below the peak's bound
        cap_blocks = np.flatnonzero(capacity < capacity.max())
        if cap_blocks.size:
            row_of = np.full(nb, -1)
            row_of[cap_blocks] = np.arange(cap_blocks.size)
            sel = row_of[lay.col_block] >= 0
            low = np.full(cap_blocks.size, -INF)
            limit = capacity[cap_blocks]
            rows.group(row_of[lay.col_block[sel]], cols[sel], lay.col_sign[sel], low, limit)
    for members, limit_kw in circuit_members(request):
        sel = np.isin(lay.col_session, members)
        limit = np.full(nb, limit_kw)
        low = -limit if has_v2g else np.full(nb, -INF)
        rows.group(lay.col_block[sel], cols[sel], lay.col_sign[sel], low, limit)


def build_model(request: PlanRequest, lay: Layout) -> Model:
    """Assemble the constraint matrix (CSC) and bounds of the named constraint groups."""
    n, dt = lay.n_sessions, request.slot_hours
    capacity = block_capacity_kw(request, lay)
    rows = _Rows()
    _power_groups(rows, request, lay, capacity)
    # energy: sum h * (eta p - d / eta) + u = need
    need = np.array([s.energy_kwh for s in request.sessions], dtype=np.float64)
    sessions = np.arange(n, dtype=np.int64)
    gain = battery_gain(request, lay)
    surplus = np.array([s.surplus_kwh for s in request.sessions], dtype=np.float64)
    room = np.array([s.battery_room_kwh for s in request.sessions], dtype=np.float64)
    rows.group(
        np.concatenate((lay.col_session, sessions)),
        np.concatenate((np.arange(lay.n_power, dtype=np.int64), lay.u0 + sessions)),
        np.concatenate((dt * lay.col_slots * gain, np.ones(n))),
        need - surplus,
        np.where(np.isfinite(room), np.maximum(room, need), need),
    )
    _battery_group(rows, lay, dt * lay.col_slots * gain)
    # fairness: u - need * z <= need - target
    beyond = need - targets(request, need)
    rows.group(
        np.concatenate((sessions, sessions)),
        np.concatenate((lay.u0 + sessions, np.full(n, lay.z))),
        np.concatenate((np.ones(n), -need)),
        np.full(n, -INF),
        beyond,
    )
    r, c, v = (np.concatenate(x) for x in zip(*rows.parts, strict=True))
    matrix = sp.csc_array((v, (r, c)), shape=(rows.count, lay.n_cols))
    col_lower, col_upper = _column_bounds(request, lay, capacity)
    return Model(
        bool((beyond > 0).any()),
        col_lower,
        col_upper,
        np.concatenate(rows.lower),
        np.concatenate(rows.upper),
        matrix,
    )


def battery_gain(request: PlanRequest, lay: Layout) -> FloatArray:
    """Battery energy per kWh of each power column: eta for a charge, -1 / eta for a discharge."""
    eta = np.array([s.efficiency for s in request.sessions], dtype=np.float64)[lay.col_session]
    return np.asarray(np.where(lay.col_sign > 0, eta, -1.0 / eta), dtype=np.float64)


def _battery_group(rows: _Rows, lay: Layout, energy: FloatArray) -> None:
    """s[i, b] - s[i, b-1] - energy of (i, b) = 0 for each V2G session's blocks, in order.

    The discharge columns are sorted by session then block, like the charge columns; state column
    j belongs to discharge column n_charge + j and to the charge column of the same (i, b).
    """
    nd = lay.n_state
    if nd == 0:
        return
    nc = lay.n_charge
    key = lay.col_session * lay.n_blocks + lay.col_block
    charge_of = np.searchsorted(key[:nc], key[nc:]).astype(np.int64)
    states = np.arange(nd, dtype=np.int64)
    same = np.flatnonzero(lay.col_session[nc + 1 :] == lay.col_session[nc:-1]) + 1
    rows.group(
        np.concatenate((states, same, states, states)),
        np.concatenate((lay.s0 + states, lay.s0 + same - 1, charge_of, nc + states)),
        np.concatenate((np.ones(nd), -np.ones(same.size), -energy[charge_of], -energy[nc:])),
        np.zeros(nd),
        np.zeros(nd),
    )


def circuit_members(request: PlanRequest) -> list[tuple[IntArray, float]]:
    """Each circuit's sessions (row numbers among the request's sessions) and its limit."""
    index = {s.session_id: i for i, s in enumerate(request.sessions)}
    return [
        (
            np.array(sorted(index[x] for x in c.session_ids if x in index), dtype=np.int64),
            c.capacity_kw,
        )
        for c in request.site.circuits
    ]


def stays(request: PlanRequest) -> FloatArray:
    """Each session's remaining stay in slots, counted from the horizon's start."""
    return np.array(
        [s.departure_slot - max(s.arrival_slot, request.start_slot) for s in request.sessions],
        dtype=np.float64,
    )


def targets(request: PlanRequest, need: FloatArray) -> FloatArray:
    """The share of each need due within the horizon (pro rata of the stay's slots in it)."""
    lo, hi = request.windows()
    stay = stays(request)
    share = np.divide(hi - lo, stay, out=np.ones_like(stay), where=stay > 0)
    return np.asarray(need * np.minimum(share, 1.0), dtype=np.float64)


def site_peak_kw(lay: Layout, x: FloatArray | None) -> float:
    """The highest block row total under solution `x` (an upper bound of the slots' powers)."""
    if x is None:
        return INF
    per_block = np.bincount(lay.col_block, lay.col_sign * x[: lay.n_power], lay.n_blocks)
    return float(per_block.max(initial=0.0))


def powers_kw(request: PlanRequest, lay: Layout, x: FloatArray) -> FloatArray:
    """The power matrix of a solution, clipped to the limits it may exceed by round-off."""
    per_block = np.zeros((lay.n_sessions, lay.n_blocks), dtype=np.float64)
    np.add.at(per_block, (lay.col_session, lay.col_block), lay.col_sign * x[: lay.n_power])
    power = np.repeat(per_block, lay.block_len, axis=1)
    if lay.coarse:  # a block may extend beyond a session's window
        lo, hi = request.windows()
        slots = np.arange(lay.horizon)
        power[(slots < lo[:, None]) | (slots >= hi[:, None])] = 0.0
    power[np.abs(power) < 1e-9] = 0.0
    capacity = request.site.capacity_per_slot_kw(lay.horizon)
    _scale_down(power, np.arange(lay.n_sessions), capacity)
    for members, limit_kw in circuit_members(request):
        _scale_down(power, members, np.full(lay.horizon, limit_kw))
    return power


def _scale_down(power: FloatArray, members: IntArray, limit_kw: FloatArray) -> None:
    """Shrink the slots where `members` draw more than `limit_kw` (solver tolerance) in place."""
    if members.size == 0:
        return
    total = power[members].sum(axis=0)
    over = total > limit_kw
    if over.any():
        factor = np.where(over, limit_kw / np.where(over, total, 1.0), 1.0)
        power[np.ix_(members, np.flatnonzero(over))] *= factor[over]
