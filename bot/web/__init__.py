"""The one aiohttp server: health, readiness, metrics, and the routes transports serve."""
