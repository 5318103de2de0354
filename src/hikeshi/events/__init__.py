"""Live events for browsers (SVボード), published only after the transaction commits."""
