"""A Command to its handler and back as a Reply, with the one error mapping."""
