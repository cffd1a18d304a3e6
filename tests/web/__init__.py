"""Tests of the admin web pages."""
