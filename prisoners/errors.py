class ApplicationError(Exception):
    """A forbidden state transition or business-rule violation, shown to the user as a message."""

    def __init__(self, message: str, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
