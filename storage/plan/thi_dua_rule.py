"""The thi đua (emulation) rule an operator writes in `thi_dua.yaml`: the weights of
timeliness, targets and growth, and the form and periods they read (the model only; it is
loaded with the catalog in storage/plan/catalog_load.py and scored in storage/measures/thi_dua.py).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storage.plan.config_files import CODE

FILE = "thi_dua.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Weights(_Strict):
    # A part left out weighs nothing; without `weights:` at all, half and half.
    timeliness: float = Field(default=0, ge=0, le=100)
    targets: float = Field(default=0, ge=0, le=100)
    growth: float = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _hundred(self) -> Weights:
        if abs(self.timeliness + self.targets + self.growth - 100) > 1e-6:
            raise ValueError("the weights must add up to 100")
        return self


class Growth(_Strict):
    indicator: CODE  # net new members (may be derived: hv_moi - hv_ra)
    base: CODE  # the member count it is a share of
    full_percent: float = Field(default=2, gt=0)  # growth that earns the full points


class Rule(_Strict):
    name: str = "Thi đua báo cáo và thực hiện chỉ tiêu"
    weights: Weights = Field(default_factory=lambda: Weights(timeliness=50, targets=50))
    form: CODE | None = None  # default: the leaf level's most frequent form
    periods: int = Field(default=6, ge=1, le=24)  # due periods that timeliness looks at
    late_credit: float = Field(default=0.5, ge=0, le=1)
    growth: Growth | None = None
    improvement_days: int = Field(default=28, ge=1, le=366)  # "most improved" compares with

    @model_validator(mode="after")
    def _growth_needs_indicator(self) -> Rule:
        if self.weights.growth and self.growth is None:
            raise ValueError("a growth weight needs a 'growth' section (indicator, base)")
        return self
