"""The one entry from every adapter into the core: `Dispatcher` routes an `Incoming` to its
handler in one transaction; `gateway.Gateway` is the port adapters and the web app hold."""

from core.dispatch.dispatcher import INTERNAL_ERROR, Dispatcher

__all__ = ["INTERNAL_ERROR", "Dispatcher"]
