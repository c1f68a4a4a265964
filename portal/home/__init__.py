"""home area."""
