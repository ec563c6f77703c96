"""Customer satisfaction: one question after each resolution, on the customer's channel."""
