"""Alembic migrations of the watcher schema, shipped inside the package."""
