"""Kill `archiver run` with SIGKILL at random instants, K times in a row, then let one finish.

The figure of the README section on faults: run as ::

    PYTHONPATH=. unshare -rn sh -c 'ip link set lo up && exec "$0" "$@"' \
        .venv/bin/python tests/tools/kill_chain.py /tmp/kills 10
"""

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.run_web import NewsWeb, build_site, write_config

tmp = Path(sys.argv[1])
tmp.mkdir(exist_ok=True)
K = int(sys.argv[2])
N = 30
random.seed(14)


def rows(sql):
    c = sqlite3.connect(tmp / "archive.db", timeout=10)
    try:
        return list(c.execute(sql))
    finally:
        c.close()


with NewsWeb() as web:
    made = build_site(web, tmp / "copies", N, broken=3)
    config = write_config(tmp / "a.toml", web, '[[sources]]\ncanonical = "copies"\n', batch=4)
    web.delay = 0.1
    cmd = [sys.executable, "-m", "archiver", "run", "--config", str(config), "--json"]
    killed = 0
    for _ in range(K):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(random.uniform(1.0, 4.0))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        p.wait()
    web.delay = 0.0
    last = subprocess.run(cmd, capture_output=True, text=True)
    hits = {u: web.hits(u) for u, _ in made}
s = json.loads(last.stdout)
per_page = dict(rows("SELECT url, count(*) FROM captures GROUP BY url"))
print(
    json.dumps(
        {
            "kills": killed,
            "final_status": s["status"],
            "resumed_from": s["resumed_from"],
            "items_resumed": s["items"]["resumed"],
            "items_visited": s["items"]["visited"],
            "pages_captured_more_than_once": sum(1 for u, _ in made if per_page.get(u, 0) > 1),
            "page_fetches_max": max(hits.values()),
            "runs": rows("SELECT status, count(*) FROM runs GROUP BY status"),
            "new_broken": len(s["new_broken"]),
            "items_done_twice": sum(
                1 for _, n in rows("SELECT item, count(*) FROM run_items GROUP BY item") if n > 1
            ),
            "items_done_by_killed_runs": rows(
                "SELECT count(*) FROM run_items WHERE run_id < (SELECT max(id) FROM runs)"
            )[0][0],
            "captures": rows("SELECT count(*) FROM captures")[0][0],
        }
    )
)
