"""Every core, then a cluster: run the pure stages (extract, parse, compare) in workers.

The building blocks a job plugs in, none of which knows a fetcher or an archive:

- :mod:`~archiver.parallel.executor` — :func:`open_executor`: inline, a process pool, or a Dask
  cluster, all behind ``concurrent.futures.Executor``;
- :mod:`~archiver.parallel.tasks` — pure, picklable task functions: bytes and plain values in,
  records (``archiver.models``) or error values out;
- :mod:`~archiver.parallel.ordered` — :func:`map_ordered`: chunks in flight, results back in
  input order, so the one writer (the caller) stores while the workers go on;
- :mod:`~archiver.parallel.stages` — the parent's side: captures in, ``(capture, document)``
  out, in order, errors logged in the parent;
- :mod:`~archiver.parallel.partition` — work split by host, so one worker at a time keeps a
  host's politeness;
- :mod:`~archiver.parallel.fastparse` — a copy's blocks without markdown-it, where it can.
"""
