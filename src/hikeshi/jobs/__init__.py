"""Durable jobs and timers: a database-backed queue, periodic scheduling and the worker."""
