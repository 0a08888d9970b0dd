"""The test suite (a regular package, so pywb's installed top-level ``tests`` cannot shadow it)."""
