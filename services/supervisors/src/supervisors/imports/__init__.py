"""Bulk reports of training records (CSV and JSON), all-or-nothing or partial."""
