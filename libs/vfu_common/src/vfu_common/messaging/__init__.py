"""Reliable messaging: transactional outbox, relay, inbox and the consumer loop."""
