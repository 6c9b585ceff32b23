"""Bulk import of capacity offers from CSV and XLSX files."""
