class ApplicationError(Exception):
    """A forbidden state transition or business-rule violation, shown to the user as a message."""

    def __init__(self, message: str, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


def messages_of(error: Exception) -> list[str]:
    """The messages to show for a refusal: an ApplicationError's, a ValidationError's, or the
    exception's text."""
    from django.core.exceptions import ValidationError

    if isinstance(error, ApplicationError):
        return [str(error.message)]
    if isinstance(error, ValidationError):
        return [str(m) for m in error.messages]
    return [str(error)]
