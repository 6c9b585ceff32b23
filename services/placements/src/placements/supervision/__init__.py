"""The supervisor gate: assigning supervisors to confirmed bookings."""
