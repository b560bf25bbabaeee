"""The validated model: distributions, the scenario and its mechanisms, the file format, the structure."""
