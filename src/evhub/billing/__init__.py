"""Tariffs in the OCPI 2.2.1 model and the pricing engine."""
