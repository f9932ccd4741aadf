"""Accounts: operators (运营单位), bases (双创基地), users, memberships with roles, invitations."""
