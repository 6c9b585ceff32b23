"""Allocation runs of a planning round: a preview from a stored input snapshot, then
publication as confirmed bookings (the solver itself is the ``vfu_allocation`` library)."""
