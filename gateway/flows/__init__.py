"""Flows that cross domains or channels, each named for what it does.

- `undelivered`: a reply that will never arrive fails its outbox row and flags its ticket
  (the delivery worker's refusals and exhausted retries, and bounces, all end here).
- `bounces`: a relay's bounce of one of our emails fails that reply.
- `blocked`: a customer who blocked a channel (Telegram bot) has their open tickets there
  flagged, since no reply can reach them.
- `unseen_webchat_replies`: a web chat reply the visitor never saw is mailed to them.

Channels reach these through the ports they are handed at install, never by import.
"""
