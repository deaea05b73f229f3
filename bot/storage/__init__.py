"""Redis: the one Store, its keys, the Lua unit of work, and the embedded server."""
