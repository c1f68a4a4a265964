"""The home area takes no input: its pages only show the signed-in actor and link to services."""
