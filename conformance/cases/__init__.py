"""The case modules: one conformance area each, driven by its table in fixtures/cases/."""
