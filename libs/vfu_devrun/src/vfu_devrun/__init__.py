"""Running the whole system natively: the launcher behind ``make run`` and the e2e tests."""
