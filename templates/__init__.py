"""Package data: config and entry templates, agent rules snippets (read with importlib.resources)."""
