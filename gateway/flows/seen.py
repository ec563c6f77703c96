"""The webchat "seen" marker: the newest reply a visitor's widget said it showed.

Written through the history port (`replies_seen`, gateway/doors.py) and read by
gateway/flows/unseen_webchat_replies.py, which mails what the visitor never saw.
"""


def seen_key(identity_id: int) -> str:
    """The state key holding the newest message id a visitor has seen."""
    return f"webchat.seen.{identity_id}"
