"""Consortium fraud-number registry."""
