"""S3 CORS conformance suite: a pytest plugin and case modules for S3-compatible endpoints."""

__version__ = "0.1.0"
