"""Tests of billing: the operator subscription and rent bills."""
