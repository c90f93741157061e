"""Request and response schemas of routes, road closures and places."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from rescue.validation import Schema


class RouteOut(Schema):
    travel_s: float
    distance_m: float
    offroad_s: float
    offroad_m: float
    via: list[str]
    route: dict


class ClosureIn(Schema):
    reason: str = Field(min_length=1, max_length=200)
    kind: Literal["impassable", "traffic_control"] = Field(
        "impassable", description="impassable 道路中断 (绕行) | traffic_control 交通管制 (应急车辆可通行)"
    )
    lat: float | None = Field(None, allow_inf_nan=False)
    lon: float | None = Field(None, allow_inf_nan=False)
    radius_m: float | None = Field(None, gt=0, le=50_000, allow_inf_nan=False)
    polygon: dict | list | None = Field(None, description="GeoJSON Polygon (几何或其 coordinates)")
    expires_at: datetime | None = Field(None, description="失效时间 (ISO 8601, 带时区); 省略为长期")
    hours: float | None = Field(None, gt=0, le=24 * 365, description="或: 从现在起多少小时后失效")

    # point or polygon (one of them) is checked with the geometry by closures.create_closure, every field at once


class ClosureOut(Schema):
    id: int
    reason: str
    lat: float | None
    lon: float | None
    radius_m: float | None
    polygon: list | None
    expires_at: datetime | None
    created_at: datetime
    lifted_at: datetime | None
    active: bool
    kind: str
    kind_name: str
    blocks: bool = Field(description="是否阻断应急车辆 (道路中断)")
    closed_edges: int = Field(description="有封闭路段的有向路段数")
    closed_m: float = Field(description="封闭的道路米数 (双向道路计一次)")
    closed: dict = Field(description="封闭路段 (GeoJSON MultiLineString)")


class PlaceOut(Schema):
    name: str
    kind: str
    county: str
    prefecture: str
    lat: float
    lon: float
    verified: bool
