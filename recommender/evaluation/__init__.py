"""Offline evaluation: ranking metrics, time splits, baselines and the report table."""
