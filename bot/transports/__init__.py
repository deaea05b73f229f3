"""Transports turn platform events into Commands, and Replies into platform messages."""
