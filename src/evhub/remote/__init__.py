"""Remote operations on stations: one or many, through the ChargerControl port."""
