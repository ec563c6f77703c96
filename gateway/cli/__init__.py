"""The `gateway` command's parts beside the composition root (`gateway/__main__.py`)."""
