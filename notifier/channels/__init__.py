"""Delivery channels, one small class each with ``kind`` and one async ``send``."""
