"""Client organisations, users, roles, web sessions and API tokens."""
