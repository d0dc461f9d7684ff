"""Filled in by the ops work."""
__all__ = []
