"""Platform administration: what the SaaS itself keeps for every base (the working-day calendar)."""
