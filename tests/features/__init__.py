"""Helpers for the feature-extractor tests (test_features_*.py)."""
