"""Alembic migrations of the case database (configured in ``sentinelle.review.db``)."""
