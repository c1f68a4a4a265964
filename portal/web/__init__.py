"""Web plumbing shared by every area: request hooks, errors, rendering helpers."""
