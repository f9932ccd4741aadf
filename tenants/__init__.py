"""Tenant companies: files, milestones, move-in and exit, leases, attendance, reports, portal (issues 3–7)."""
