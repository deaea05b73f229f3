"""Plain types and rules of an incident: no I/O, nothing above it imported."""
