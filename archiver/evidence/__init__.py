"""Evidence: a tamper-evident log of what the archive holds, signed and timestamped checkpoints,
and proofs that anyone can check without the archive (``docs/evidence.md``)."""
