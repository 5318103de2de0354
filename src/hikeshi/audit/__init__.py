"""Append-only, hash-chained activity log: the evidence trail of every state change."""
