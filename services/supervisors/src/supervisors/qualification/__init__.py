"""Qualification: each supervisor's licence and training against the requirement level."""
