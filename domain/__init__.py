"""The business of the wholesale gateway: models, rules, services and storage.

Nothing here imports the API layer (strawberry) or the web layer (starlette).
"""
