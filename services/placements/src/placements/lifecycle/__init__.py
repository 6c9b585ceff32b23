"""Date-driven placement transitions: confirmed → in progress → completed."""
