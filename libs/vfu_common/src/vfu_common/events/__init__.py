"""Event envelope, typed contracts and stream definitions shared by every service."""
