"""One module per revision; Alembic reads them by file."""
