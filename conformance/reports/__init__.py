"""Reports made from a run's results.json: every format, the compatibility and regression pages, certification."""
