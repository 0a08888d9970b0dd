"""The archive stage: one SQLite file holding every capture, extraction, verdict and run.

``store.Archive`` is the face; the modules beside it each hold one part (``docs/store.md``).
Only the two limits the command line shows in its help live here, so ``--help`` loads no
SQLite library.
"""

#: Seconds a user query may run (``archiver query --timeout``).
DEFAULT_QUERY_TIMEOUT = 30.0
#: Longer than a day is a typo (and ``inf`` would never end).
MAX_QUERY_TIMEOUT = 86400.0
