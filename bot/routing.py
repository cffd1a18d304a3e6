"""Handler tables that build a fresh aiogram Router per dispatcher (a Router attaches once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiogram import Router

F = TypeVar("F", bound=Callable[..., Any])


class Routes:
    """Handlers of one flow, recorded by decorators and registered on :meth:`build`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[tuple[str, Callable[..., Any], tuple[Any, ...]]] = []

    def _add(self, observer: str, filters: tuple[Any, ...]) -> Callable[[F], F]:
        def record(handler: F) -> F:
            self._entries.append((observer, handler, filters))
            return handler

        return record

    def message(self, *filters: Any) -> Callable[[F], F]:
        """Handle messages passing ``filters``."""
        return self._add("message", filters)

    def edited_message(self, *filters: Any) -> Callable[[F], F]:
        """Handle edited messages passing ``filters``."""
        return self._add("edited_message", filters)

    def callback_query(self, *filters: Any) -> Callable[[F], F]:
        """Handle button presses passing ``filters``."""
        return self._add("callback_query", filters)

    def build(self) -> Router:
        """A new Router with every recorded handler."""
        router = Router(name=self.name)
        for observer, handler, filters in self._entries:
            router.observers[observer].register(handler, *filters)
        return router
