"""Supervisors registered by their employers."""
