"""The supervisor gate: assigning supervisors to confirmed bookings (issue 5, item 5)."""
