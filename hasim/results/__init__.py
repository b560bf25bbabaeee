"""What a simulation measured: estimates with honest 95 % intervals, verdicts, tables."""
