"""Request and response schemas of sign-in."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from rescue.validation import Schema


class TokenIn(Schema):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class TokenOut(Schema):
    token: str
    expires_at: datetime
