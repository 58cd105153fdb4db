"""Runs against a sandbox account: the account guard, ownership tags, sweep, leftovers, faults."""
