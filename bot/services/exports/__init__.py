"""The incident log as files: flat rows, and CSV / JSON Lines / Markdown written as they stream."""
