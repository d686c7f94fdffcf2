"""The behaviour the suite checks: the model of docs/spec.md, case tables and their schema, checks and outcomes."""
