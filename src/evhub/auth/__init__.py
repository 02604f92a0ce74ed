"""Who may do what: console users and API keys, each with a role (viewer < operator < admin)."""
