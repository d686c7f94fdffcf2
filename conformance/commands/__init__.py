"""Commands of python -m conformance that are not a report: cleanup of left-over buckets, the power measurement."""
