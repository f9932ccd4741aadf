"""Sending a filing's JSON to the provincial platform (placeholder: being written)."""
