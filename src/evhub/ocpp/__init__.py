"""The OCPP gateway: translates protocol messages into service calls, and back. No rules here."""
