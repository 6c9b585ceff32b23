"""Bookings: universities take places on offers; providers confirm or decline."""
