"""Contract ids (eMAID) in the eMI3 / ISO 15118-1 form `CC-PPP-IIIIIIIII-D`, and their check
digit as eMI3 "Check digit calculation for Contract-IDs" (v1.0) defines it.

Each of the 14 characters before the check digit stands for a value v in 0..35 (0-9, then A-Z)
written v = 9q + r, with q in 0..3 as a vector (q1, q2) over Z2 (q = 2 q1 + q2) and r in 0..8
as (r1, r2) over Z3 (r = 3 r1 + r2). The check character at position 15 is the one for which
    sum_i q_i P1^i = 0 (mod 2)  and  sum_i r_i P2^i = 0 (mod 3),  i = 1..15,
with P1 = [[0, 1], [1, 1]] over Z2 and P2 = [[0, 1], [1, 2]] over Z3. The two sums detect a
wrong character, a swap of neighbours, a twin error, and jump transpositions and twins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BODY_LENGTH = 14
_FORM = re.compile(
    r"^(?P<country>[A-Z]{2})-?(?P<provider>[A-Z0-9]{3})-?(?P<instance>[A-Z0-9]{9})"
    r"(?:-?(?P<check>[A-Z0-9]))?$"
)

Matrix = tuple[tuple[int, int], tuple[int, int]]
Vector = tuple[int, int]
P1: Matrix = ((0, 1), (1, 1))
P2: Matrix = ((0, 1), (1, 2))


def _times(a: Matrix, b: Matrix, mod: int) -> Matrix:
    def cell(i: int, j: int) -> int:
        return (a[i][0] * b[0][j] + a[i][1] * b[1][j]) % mod

    return ((cell(0, 0), cell(0, 1)), (cell(1, 0), cell(1, 1)))


def _powers(p: Matrix, mod: int, count: int) -> list[Matrix]:
    """p^1 .. p^count."""
    out = [p]
    while len(out) < count:
        out.append(_times(out[-1], p, mod))
    return out


def _row_times(v: Vector, m: Matrix, mod: int) -> Vector:
    return ((v[0] * m[0][0] + v[1] * m[1][0]) % mod, (v[0] * m[0][1] + v[1] * m[1][1]) % mod)


_P1_POWERS = _powers(P1, 2, BODY_LENGTH + 1)
_P2_POWERS = _powers(P2, 3, BODY_LENGTH + 1)


def _inverse(m: Matrix, powers: list[Matrix], mod: int) -> Matrix:
    """The inverse of m = p^k among the powers of p (p has a finite order)."""
    identity = ((1, 0), (0, 1))
    for candidate in powers + [identity]:
        if _times(m, candidate, mod) == identity:
            return candidate
    raise ArithmeticError("not invertible")  # pragma: no cover - P1 and P2 are invertible


_P1_15_INV = _inverse(_P1_POWERS[BODY_LENGTH], _P1_POWERS, 2)
_P2_15_INV = _inverse(_P2_POWERS[BODY_LENGTH], _P2_POWERS, 3)


def check_digit(body: str) -> str:
    """The check character of the 14 characters `body` (separators removed, any case)."""
    body = body.upper()
    if len(body) != BODY_LENGTH or any(c not in ALPHABET for c in body):
        raise ValueError(f"a contract id has {BODY_LENGTH} letters and digits before its check")
    q_sum: Vector = (0, 0)
    r_sum: Vector = (0, 0)
    for i, char in enumerate(body):
        q, r = divmod(ALPHABET.index(char), 9)
        qv = _row_times((q // 2, q % 2), _P1_POWERS[i], 2)
        rv = _row_times((r // 3, r % 3), _P2_POWERS[i], 3)
        q_sum = ((q_sum[0] + qv[0]) % 2, (q_sum[1] + qv[1]) % 2)
        r_sum = ((r_sum[0] + rv[0]) % 3, (r_sum[1] + rv[1]) % 3)
    # q15 P1^15 = -q_sum, r15 P2^15 = -r_sum
    q15 = _row_times(((-q_sum[0]) % 2, (-q_sum[1]) % 2), _P1_15_INV, 2)
    r15 = _row_times(((-r_sum[0]) % 3, (-r_sum[1]) % 3), _P2_15_INV, 3)
    return ALPHABET[9 * (2 * q15[0] + q15[1]) + 3 * r15[0] + r15[1]]


@dataclass(frozen=True)
class ContractId:
    country: str
    provider: str
    instance: str

    @property
    def body(self) -> str:
        return self.country + self.provider + self.instance

    @property
    def check(self) -> str:
        return check_digit(self.body)

    def __str__(self) -> str:
        """The display form, with separators: `FR-EVH-C12345678-9`."""
        return f"{self.country}-{self.provider}-{self.instance}-{self.check}"

    @property
    def compact(self) -> str:
        """Without separators (the form an ISO 15118 eMAID token carries)."""
        return self.body + self.check


def parse(text: str) -> ContractId:
    """A contract id with or without separators; its check digit, if given, must hold."""
    found = _FORM.match(text.strip().upper())
    if found is None:
        raise ValueError(f"{text!r} is not a contract id (CC-PPP-IIIIIIIII-D)")
    contract = ContractId(found["country"], found["provider"], found["instance"])
    if found["check"] is not None and found["check"] != contract.check:
        raise ValueError(f"{text!r}: wrong check digit (expected {contract.check})")
    return contract


def for_driver(country: str, provider: str, driver_id: int) -> ContractId:
    """The contract id of a driver's contract: instance `C` and the driver's id on 8 digits,
    unique because the id is."""
    if not 0 < driver_id < 10**8:
        raise ValueError("driver ids above 8 digits need another instance scheme")
    return ContractId(country.upper(), provider.upper(), f"C{driver_id:08d}")
