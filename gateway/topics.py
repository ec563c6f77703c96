"""The wake-up topics (gateway/notify.py). PostgreSQL channel names are identifiers: keep
them fixed. A leaf module, so a channel names its topic without loading the notifier."""

TICKETS = "parley_tickets"  # payload: queue id of a ticket that became claimable
WEBCHAT = "parley_webchat"  # payload: channel identity id with a new outbound message
OUTBOX = "parley_outbox"  # payload: outbox id of a reply ready to deliver
MESSAGES = "parley_messages"  # payload: ticket id with a new customer message (console)
AGENTS = "parley_agents"  # an agent or its queues changed: drop cached tokens (agents/cache.py)
# a webhook subscription changed: drop the cached subscriber list (webhooks/cache.py)
WEBHOOKS = "parley_webhooks"
TOPICS = (TICKETS, WEBCHAT, OUTBOX, MESSAGES, AGENTS, WEBHOOKS)
