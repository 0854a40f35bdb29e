"""Measure detection against a synthetic world's truth: metrics, baselines, the benchmark."""
