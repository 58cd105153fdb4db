"""Developer tools run by make targets (bench, soak, the LocalStack launcher); not in the wheel."""
