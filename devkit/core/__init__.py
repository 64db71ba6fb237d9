"""Value types that metrics and store both use: the sketch, records and event validation.

They live below both layers so neither imports the other for them.
"""
