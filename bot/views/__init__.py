"""What Lifeline says: Replies built from domain values, the same on every transport."""
