"""Alembic migrations of the store's schema (`harbour db upgrade`).

May import: store.
"""
