"""Read models the placements service keeps from other services' events."""
