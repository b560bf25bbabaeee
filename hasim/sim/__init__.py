"""Simulation engines: the numba kernel and the SimPy reference."""
