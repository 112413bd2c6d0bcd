"""Benchmarks: synthgen against its peers on real lending data. Not part of the package."""
