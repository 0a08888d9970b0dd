"""Capture: a fetched page kept in the archive with its extraction (the ``snapshot`` job)."""
