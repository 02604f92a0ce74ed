"""Car-sharing at the hubs: fleet, bookings, trips through the VehicleControl port, GBFS feed."""
