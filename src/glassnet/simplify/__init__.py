"""Simplification of unwrapped networks: merging, pruning, flattening, L1 paths."""
