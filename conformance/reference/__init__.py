"""The reference endpoint: bucket CORS exactly as conformance/behaviour/model.py says, over moto, with switchable faults."""
