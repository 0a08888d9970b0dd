"""archiver — an archival scraper and verifier for news articles.

The pipeline, one module per stage::

    fetch  ->  extract (profiles/)  ->  normalize  ->  store
                                                   \\->  compare (drift vs canonical copy)
                                                   \\->  linkcheck (link rot)  ->  report

``canonical`` reads the user's Markdown copies; ``cli`` is a thin layer over all of it.
"""

from __future__ import annotations

__version__ = "0.1.0"
