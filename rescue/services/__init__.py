"""Domain operations called by views, CLI commands and jobs alike (no Flask here)."""
