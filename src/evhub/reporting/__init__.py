"""Monthly reports for the operator and the towns, and the French IRVE open data."""
