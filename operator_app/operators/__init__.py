"""Operator-level pages: the owner's list of bases and the creation of new bases."""
