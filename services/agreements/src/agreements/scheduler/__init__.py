"""Date-driven agreement transitions, run by one replica at a time."""
