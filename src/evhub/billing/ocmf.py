"""Verifying signed meter data (OCMF, the Open Charge Metering Format) with pyocmf.

OCPP 2.0.1 sends `signedMeterData` base64 encoded (SignedMeterValueType §2.45); OCPP 1.6
stations send the OCMF text itself, plain or hex (pyocmf reads both). Without a public key the
signature cannot be checked: the result is then unknown (None), never "valid".
"""

from __future__ import annotations

import base64
import binascii
import logging
import warnings

from pyocmf import OCMF, PyOCMFError

log = logging.getLogger("evhub.billing")
_PREFIX = "OCMF|"


def ocmf_text(data: str) -> str:
    """The OCMF string of `data`: as is when plain or hex, decoded when base64 (2.0.1)."""
    text = data.strip()
    if text.startswith(_PREFIX):
        return text
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return text
    return decoded if decoded.startswith(_PREFIX) else text


def verify(data: str, public_key: str) -> bool | None:
    """True when the meter's signature holds for its payload, False when it does not or the
    data is not OCMF, None when no key is known to check it with."""
    with warnings.catch_warnings():
        # Deviations the reference Transparenzsoftware accepts are reported as warnings.
        warnings.simplefilter("ignore")
        try:
            record = OCMF.from_string(ocmf_text(data))
        except PyOCMFError as exc:
            log.warning("event=ocmf_unreadable cause=%s", exc)
            return False
        key = public_key.strip() or record.embedded_public_key
        if not key:
            return None
        try:
            return bool(record.verify_signature(key))
        except PyOCMFError as exc:
            log.warning("event=ocmf_unverifiable cause=%s", exc)
            return False
