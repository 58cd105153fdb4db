"""Clean-up: the sweep engine (with one finder per service) and the leftovers of killed runs."""
