"""Signed outbound webhooks: subscribers, events, and their deliveries through the outbox."""
