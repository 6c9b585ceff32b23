"""Pure domain rules shared by services, so every service decides them identically."""
