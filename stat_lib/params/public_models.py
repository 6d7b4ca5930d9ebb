"""Params of the public edition (city.yaml ``public:``): how small a published count may be."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Public(BaseModel):
    """``withhold_up_to``: location counts of 1 to this are withheld, with complementary
    cells (the health-data convention: 10); ``layers``: the boundary layers whose district
    counts are published (default: every layer)."""

    model_config = ConfigDict(extra="forbid")

    withhold_up_to: int = Field(default=10, ge=1, description="location counts of 1 to this "
                                "are withheld in the public edition")
    layers: list[str] | None = Field(default=None, description="boundary layers published as "
                                     "district counts (default: all)")
