"""Request bodies of the JSON API. Unknown keys are refused, so a field added later (``period`` for claim
rounds, ledger keys) is a new optional field here and one more argument forwarded in ``api.py``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: dict[str, Any] = Field(description="the profile as engine.evaluate accepts it (English or Chinese keys)",
                                    examples=[{"统一社会信用代码": "91350100M000100Y43", "名称": "阜新某新材料有限公司",
                                               "所在城市": "阜新", "企业规模": "小型",
                                               "events": [{"type": "商标国际注册", "date": "2016-05-01", "费用": "12,345.67元"}]}])
    as_of: str = Field(description="evaluation date (评估日), e.g. 2019-12-31; the server never reads its clock",
                       examples=["2019-12-31"], json_schema_extra={"format": "date"})
    lang: Literal["zh", "en"] = Field("zh", description="language of `text` in /v1/explain (the Evaluation JSON and every error carry both languages)")
    traces: bool = Field(False, description="include how every rule was decided (`traces`)")
    period: str | None = Field(None, description="claim round (申报期): a year (2019) or start..end "
                               "(2019-01-01..2019-06-30); only events inside it earn event benefits, the others are "
                               "listed in `outside_period`; it may not end after `as_of`", examples=["2016"])


class ExplainRequest(EvaluateRequest):
    rule: str = Field(description="rule id, e.g. ln2015.trademark.intl-subsidy", examples=["ln2015.trademark.intl-subsidy"])
