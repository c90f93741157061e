"""CLI: `flask --app app roads import FILE` and `flask --app app coverage-map` (thin, over the same services)."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from rescue.db import utcnow
from rescue.web.extensions import get_db

roads_cli = AppGroup("roads", help="道路网络: 导入 OSM / GraphML / GeoJSON")


@roads_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--progress/--no-progress", default=None, help="显示进度条 (默认: 终端上显示)")
def import_roads(file, progress):
    """Make FILE's network (.osm, .osm.pbf, .graphml, .geojson) the active one, used from the next start."""
    from rescue.roads import active
    from routing import RoadDataError

    click.echo(f"读取 {file} ...")
    try:
        net = active.import_active(
            current_app.instance_path, file, area=tuple(current_app.config["SERVICE_AREA"]), progress=progress
        )
    except RoadDataError as exc:
        raise click.ClickException(f"无法导入道路数据: {exc}") from exc
    target = active.roads_dir(current_app.instance_path) / active.ACTIVE_NAME
    click.echo(f"已导入: {net.n_nodes} 个节点, {net.n_edges} 条有向路段 (最大强连通分量), 保存为 {target.name}; 重启服务后生效")


@click.command("coverage-map")
@click.option("--capability", required=True, help="能力代码, 如 hazmat_leak_control")
@click.option("--minutes", type=float, default=60.0, show_default=True, help="到达时间目标 (分钟)")
@click.option("--exclude", default="", help="模拟调走的资源, 如 team:12,equipment:5")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出 PNG 文件")
@with_appcontext
def coverage_map(capability, minutes, exclude, out):
    """Render the coverage of CAPABILITY within MINUTES as a PNG map (roads, met/missed places)."""
    from rescue.dispatch import coverage
    from rescue.errors import ValidationError
    from rescue.roads.mapping import render_coverage_png
    from rescue.web.extensions import get_roads

    args = {"capability": capability, "minutes": str(minutes), "exclude": exclude}
    with get_db().session_factory() as session:
        try:
            cap, mins, excl = coverage.parse_request(session, _Args(args))
        except ValidationError as exc:
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.fields.items())) from exc
        report = coverage.coverage_report(session, get_roads(), capability=cap, minutes=mins, exclude=excl, now=utcnow())
    font = render_coverage_png(get_roads().net, report, out)
    click.echo(
        f"已生成 {out}: {report['met']} 处达标, {report['missed']} 处未达标"
        + (f", 调走后失去覆盖: {', '.join(report['lost'])}" if report["lost"] else "")
        + ("" if font else " (未找到中文字体, 标注用拼音/英文: apt-get install fonts-noto-cjk)")
    )


class _Args(dict):
    def getlist(self, key):
        return [self[key]] if self.get(key) else []


def init_app(app) -> None:
    app.cli.add_command(roads_cli)
    app.cli.add_command(coverage_map)
