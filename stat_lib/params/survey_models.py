"""Params of the ``surveys`` kind (city.yaml ``survey:``): the answer scale and what counts.

``scale`` is the numeric scale answers are on (1-5 by default); ``labels`` maps labelled
answers ("Very satisfied") to a point of the scale, compared ignoring case and spaces at the
ends; ``satisfied`` lists the points that count as satisfied (default: the top two, "top-two
box"); ``min_responses`` is the small-sample threshold: fewer responses than this are "too few
to judge". A department's target is ``targets: {satisfaction: {target: 0.7}}`` in its params.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Survey(BaseModel):
    """How survey answers are read and judged (see the module)."""

    model_config = ConfigDict(extra="forbid")

    scale_min: int = Field(default=1, description="the lowest answer on the scale")
    scale_max: int = Field(default=5, description="the highest answer on the scale")
    labels: dict[str, int] = Field(default={}, description="labelled answer -> scale point")
    satisfied: list[int] | None = Field(default=None, description="answers counted as "
                                        "satisfied (default: the top two of the scale)")
    min_responses: int = Field(default=30, ge=1, description="fewer responses: too few to "
                               "judge")

    @model_validator(mode="after")
    def _on_scale(self):
        if self.scale_max <= self.scale_min:
            raise ValueError(f"scale_max ({self.scale_max}) must be above scale_min "
                             f"({self.scale_min})")
        off = {k: v for k, v in self.labels.items() if not self.on_scale(v)}
        off.update({str(v): v for v in (self.satisfied or []) if not self.on_scale(v)})
        if off:
            raise ValueError(f"answers off the {self.scale_min}-{self.scale_max} scale: "
                             f"{', '.join(map(str, off))}; use points of the scale")
        return self

    def on_scale(self, value: int) -> bool:
        return self.scale_min <= value <= self.scale_max

    @property
    def satisfied_points(self) -> list[int]:
        """The answers that count as satisfied (the top two unless ``satisfied`` is set)."""
        return sorted(self.satisfied or [self.scale_max - 1, self.scale_max])

    def box_text(self) -> str:
        """``'4 or 5 on a 1-5 scale'``."""
        pts = [str(p) for p in self.satisfied_points]
        joined = pts[0] if len(pts) == 1 else f"{', '.join(pts[:-1])} or {pts[-1]}"
        return f"{joined} on a {self.scale_min}-{self.scale_max} scale"
