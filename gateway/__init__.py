"""The deployable gateway: settings, auth, the ASGI app, the embedded database and the CLI."""
