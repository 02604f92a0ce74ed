"""The demo hub: a shopping-centre car park driven by simulated stations and cars."""
