"""Supervisor training: the course catalogue and training records."""
