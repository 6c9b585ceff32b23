"""Care units: the places where students are placed, owned by a provider."""
