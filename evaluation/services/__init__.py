"""The evaluation app's services: suites, runs (start, cancel), their execution on the worker,
comparison. Importing this package loads no torch: the recipe is imported inside the worker's
functions only."""
