"""Render a coverage report as a PNG map with matplotlib (roads, places coloured by met/missed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from routing import RoadNetwork

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Source Han Sans SC",
)


def cjk_font() -> str | None:
    """The first installed font family with Chinese glyphs (Debian: fonts-noto-cjk), or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in _CJK_FAMILIES if f in installed), None)


def render_coverage_png(net: RoadNetwork, report: dict, out: str | Path, *, dpi: int = 150) -> str | None:
    """Write the map to ``out``; returns the CJK font used (None: labels may lack Chinese glyphs)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.collections import LineCollection

    font = cjk_font()
    if font:
        plt.rcParams["font.family"] = [font, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    one = np.flatnonzero((net.twin < 0) | (np.arange(net.n_edges) < net.twin))
    seg = np.stack(
        [
            np.column_stack([net.lon[net.tail[one]], net.lat[net.tail[one]]]),
            np.column_stack([net.lon[net.head[one]], net.lat[net.head[one]]]),
        ],
        axis=1,
    )
    major = net.road_class[one] <= 2
    fig, ax = plt.subplots(figsize=(8, 10))
    ax.add_collection(LineCollection(seg[~major], colors="#bbbbbb", linewidths=0.5))
    ax.add_collection(LineCollection(seg[major], colors="#777777", linewidths=1.2))
    items = report["items"]
    for met, colour, label in ((True, "#1a9850", "达标" if font else "met"), (False, "#d73027", "未达标" if font else "missed")):
        pts = [i for i in items if i["met"] == met]
        if pts:
            ax.scatter(
                [i["lon"] for i in pts],
                [i["lat"] for i in pts],
                s=[60 if i["kind"] == "county" else 35 for i in pts],
                c=colour,
                edgecolors="black",
                linewidths=0.5,
                zorder=3,
                label=label,
            )
    for i in items:
        mins = f"{i['arrival_s'] / 60:.0f}′" if i["arrival_s"] is not None else "—"
        text = f"{i['name']} {mins}" if font else mins
        ax.annotate(
            text,
            (i["lon"], i["lat"]),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=6.5,
            color="#b2182b" if i.get("lost") else "#222222",
        )
    lon = [i["lon"] for i in items] or list(net.lon)
    lat = [i["lat"] for i in items] or list(net.lat)
    ax.set_xlim(min(lon) - 0.3, max(lon) + 0.3)
    ax.set_ylim(min(lat) - 0.3, max(lat) + 0.3)
    ax.set_aspect(1 / np.cos(np.radians(np.mean(lat))))
    cap, mins = report["capability"], report["minutes"]
    title = (
        f"{cap}: {mins:g} 分钟内到达 — 达标 {report['met']}, 未达标 {report['missed']}"
        if font
        else f"{cap}: within {mins:g} min — met {report['met']}, missed {report['missed']}"
    )
    if report.get("exclude"):
        title += f"\n(exclude {', '.join(report['exclude'])})"
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.text(0.01, 0.01, "© OpenStreetMap contributors (ODbL)", transform=ax.transAxes, fontsize=6, color="#555555")
    ax.set_xlabel("经度" if font else "lon")
    ax.set_ylabel("纬度" if font else "lat")
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return font
