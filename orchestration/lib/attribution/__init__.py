"""Attribution of interventions: donors, difference-in-differences and synthetic control."""
