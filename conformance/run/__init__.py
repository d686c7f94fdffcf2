"""A run of the suite: the pytest plugin (options, session, verdicts, progress) that ties the other packages together."""
