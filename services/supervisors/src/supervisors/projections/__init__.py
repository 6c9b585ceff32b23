"""Read models of other services' events (units, offers, agreements, assignments)."""
