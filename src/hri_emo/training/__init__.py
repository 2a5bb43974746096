"""Training, evaluation and benchmarks: Lightning module + data module, metrics, thresholds."""
