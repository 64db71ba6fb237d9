"""Metrics: instruments, track(), the percentile sketch and the in-process recorder."""
