"""Benchmarks (`make bench`): each figure printed as `name: value unit`."""
