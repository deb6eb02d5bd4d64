"""Domain exceptions whose text is written for the person who caused them."""


class DomainError(Exception):
    """A refused action; `message` is shown to the user as it is."""

    status_code = 400

    def __init__(self, message, errors=None):
        super().__init__(str(message))
        self.message = message
        # Optional per-row or per-field problems: a list of strings.
        self.errors = list(errors or [])

    def __str__(self):
        return str(self.message)


class NotAllowed(DomainError):
    """The user may not do this to this record."""

    status_code = 403


class NotFound(DomainError):
    """The record does not exist, or is not visible to this user."""

    status_code = 404


class Conflict(DomainError):
    """Someone else changed the record since the user loaded it."""

    status_code = 409


class EvidenceError(DomainError):
    """An evidence file was refused, or could not be checked."""
