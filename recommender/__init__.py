"""Job-matching and vocational-training recommender for public employment services."""

__version__ = "0.1.0"
