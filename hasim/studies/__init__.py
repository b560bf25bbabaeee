"""Studies built from many simulations: sweeps, sensitivity, comparisons, batches."""
