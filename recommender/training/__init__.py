"""Offline training: time split, labels, negatives, rankers, evaluation, bundles."""
