"""The reference endpoint: bucket CORS exactly as conformance/model.py says, over moto, with switchable faults."""
