"""The shared text and id rules (gateway.text) as request models and parameters, so
every route applies them the same way at the edge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, model_validator

from gateway.text import MAX_INT32, first_problem


class InboundModel(BaseModel):
    """A request body: any string in it with a NUL or a lone surrogate is a 422 (the
    database could not store it, and no later read could serve it)."""

    @model_validator(mode="before")
    @classmethod
    def _storable_strings(cls, data: Any) -> Any:
        problem = first_problem(data)
        if problem:
            raise ValueError(f"text that cannot be stored: {problem}")
        return data


# Row ids are 32-bit columns: a larger number names nothing and must not reach the query.
IdPath = Annotated[int, Path(ge=1, le=MAX_INT32)]
AfterQuery = Annotated[int, Query(ge=0, le=MAX_INT32)]
