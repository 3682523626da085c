"""The one error an export raises on purpose."""

from engine_assets.run.errors import EngineError


class ExportError(EngineError):
    """An export the engine will not run as asked; the message says what, where and how to fix it (one line)."""
