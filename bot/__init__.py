"""Chat in: the aiogram bot (binding, reply-to-report, requests, review)."""
