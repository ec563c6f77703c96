"""The agent console at /console: the agent API in a browser (Jinja2 pages, htmx)."""
