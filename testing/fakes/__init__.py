"""Fakes of the network edges this machine cannot reach (Telegram)."""
