"""Base-level pages of the platform: dashboard, profile, members and invitations, audit log."""
