"""Admin and API in: aiohttp app, pages, JSON API, Telegram webhook, health and metrics."""
