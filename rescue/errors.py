"""Domain errors, mapped to HTTP statuses in one place (rescue.web.errors)."""


class RescueError(Exception):
    """Base of the errors a user can be told about."""

    code = "error"
    status = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    @property
    def extra(self) -> dict:
        """More keys for the error body beyond error, message and fields."""
        return {}


class ValidationError(RescueError):
    code = "validation"
    status = 422

    def __init__(self, fields: dict[str, str], message: str = "提交的数据有误"):
        super().__init__(message, fields)


class NotFoundError(RescueError):
    code = "not_found"
    status = 404


class ConflictError(RescueError):
    code = "conflict"
    status = 409


class AuthError(RescueError):
    code = "unauthorized"
    status = 401


class ForbiddenError(RescueError):
    code = "forbidden"
    status = 403
