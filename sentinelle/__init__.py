"""Sentinelle."""
