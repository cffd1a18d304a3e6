"""Server-rendered admin pages, one module per area; each exposes ``routes(app)``."""
