"""Signed meter data as stations send it: the OCMF text plain (OCPP 1.6 SignedData, most
2.0.1 stations), hex, or base64 (OCPP 2.0.1 signedMeterData); verified with its meter's key."""

from __future__ import annotations

import base64

from evhub.billing.ocmf import ocmf_text, verify
from evhub.ocpp.v16.translate import signed_readings
from tests.unit.billing.test_cdrs import ocmf_sample


def test_plain_hex_and_base64_ocmf_are_read_alike() -> None:
    data, key = ocmf_sample()
    encoded = base64.b64encode(data.encode()).decode()
    assert ocmf_text(encoded) == ocmf_text(data) == data
    assert verify(encoded, key) is verify(data.encode().hex(), key) is True


def test_without_a_key_the_signature_is_unknown_and_garbage_is_invalid() -> None:
    data, key = ocmf_sample()
    assert verify(data, "") is None
    assert verify("OCMF|not json|{}", key) is False


def test_ocpp16_signed_data_values_are_kept_apart_from_samples() -> None:
    data, _ = ocmf_sample()
    readings = signed_readings(
        [
            {
                "timestamp": "2026-11-23T10:30:00Z",
                "sampled_value": [
                    {"value": "7000", "measurand": "Energy.Active.Import.Register"},
                    {"value": data, "format": "SignedData", "context": "Transaction.End"},
                ],
            }
        ]
    )
    assert [(r.context, r.data) for r in readings] == [("Transaction.End", data)]
