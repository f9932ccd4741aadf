"""The service ledger: requests, visits, activities, feedback, service team and partner agencies (issue 6)."""
