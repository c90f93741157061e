"""SMS outbox benchmark: throughput to the loopback fake Twilio vs raw twilio-client sends, and dispatch cost;
with --aliyun, the outbox through the Aliyun backend to its stand-in vs the raw dysmsapi SDK in a loop.

    python -m tests.bench.bench_outbox [--messages 300] [--postgres URL] [--aliyun --rounds 3]
"""

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contacts import OutgoingSms, create_gateway
from contacts.standins.twilio import FakeTwilio
from rescue import migrations
from rescue.config import DEFAULTS
from rescue.db import make_engine, sessionmaker
from rescue.dispatch import dispatches, outbox
from rescue.models import Incident, IncidentNeed, IncidentType, OutboxMessage, Team
from rescue.models.enums import IncidentLevel

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def _database(url: str | None, tmp: Path):
    url = url or f"sqlite:///{tmp / 'bench.sqlite'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    with Session(engine) as session:
        if session.scalar(select(Team.id).limit(1)) is None:
            from seed import loader

            loader.seed(session, area=DEFAULTS["SERVICE_AREA"], demo=True)
            session.commit()
    return engine


def _incident(session) -> Incident:
    itype = session.scalars(select(IncidentType)).first()
    incident = Incident(
        number=f"BENCH-{time.time_ns()}",
        type_code=itype.code,
        level=IncidentLevel.larger,
        lat=38.1,
        lon=106.5,
        place="宁东镇",
        created_dt=NOW,
    )
    incident.needs.append(IncidentNeed(position=0, capability_code="firefighting", quantity=1))
    session.add(incident)
    session.flush()
    return incident


def bench_throughput(sf, gw, fake, n: int) -> dict:
    phones = [f"+86139{i:08d}" for i in range(n)]
    t = time.perf_counter()
    for i, phone in enumerate(phones):
        gw.send(OutgoingSms(phone, f"【宁夏应急】基准测试原始发送{i}", reference=str(i)))
    raw_s = time.perf_counter() - t
    fake.reset()
    with sf() as s:
        s.execute(delete(OutboxMessage))
        s.add_all(
            [
                OutboxMessage(
                    to_phone=p,
                    recipient_name="bench",
                    body=f"【宁夏应急】基准测试发件箱{i}",
                    segments=1,
                    next_attempt_dt=NOW,
                    created_dt=NOW,
                    status_dt=NOW,
                )
                for i, p in enumerate(phones)
            ]
        )
        s.commit()
    t = time.perf_counter()
    result = outbox.drain_outbox(sf, gw, now=NOW, limit=n + 10)
    box_s = time.perf_counter() - t
    assert result.sent == n and len(fake.messages) == n, (result, len(fake.messages))
    return {"raw_per_s": n / raw_s, "outbox_per_s": n / box_s, "ratio": (n / box_s) / (n / raw_s)}


def bench_aliyun(sf, n: int, rounds: int) -> dict:
    """msg/s of the outbox (queued rendered dispatch templates, drained through the aliyun backend to its
    stand-in) and of the bare dysmsapi SDK sending the same templates in a loop, rounds alternating."""
    from contacts.standins.aliyun import AliyunStandIn
    from tests.bench.bench_aliyun import _messages, bench_raw_sdk, time_outbox

    def drain(gateway, count: int) -> None:
        with sf() as s:
            s.execute(delete(OutboxMessage))
            s.add_all(
                [
                    OutboxMessage(
                        to_phone=m.to,
                        recipient_name="bench",
                        body=m.body,
                        template=m.template,
                        params=dict(m.params),
                        segments=1,
                        next_attempt_dt=NOW,
                        created_dt=NOW,
                        status_dt=NOW,
                    )
                    for m in _messages(count, 0)
                ]
            )
            s.commit()
        result = outbox.drain_outbox(sf, gateway, now=NOW, limit=count + 10)
        assert result.sent == count, result

    box, raw = [], []
    for r in range(rounds):
        box.append(time_outbox(drain, n))
        with AliyunStandIn(auto_reports=False) as standin:
            raw.append(bench_raw_sdk(standin, _messages(n, (r + 1) * n)))
            assert len(standin.messages) == n
    return {"outbox": box, "raw": raw}


def bench_dispatch(sf, recipients: int, runs: int) -> dict:
    times = []
    for _ in range(runs):
        with sf() as s:
            teams = s.scalars(select(Team).order_by(Team.id).limit(recipients)).all()
            incident = _incident(s)
            t = time.perf_counter()
            d = dispatches.create_dispatch(
                s, incident, resources=[{"kind": "team", "id": tm.id, "need_id": None} for tm in teams], now=NOW
            )
            s.commit()
            times.append((time.perf_counter() - t) * 1000)
            rows = s.scalar(
                select(outbox.func.count())
                .select_from(OutboxMessage)
                .join(dispatches.Assignment)
                .where(dispatches.Assignment.dispatch_id == d.id)
            )
            assert len(d.assignments) == len(teams)
            # close them so reply codes free up for the next run
            for a in d.assignments:
                a.status = dispatches.AssignmentStatus.released
            s.commit()
    return {"recipients": len(teams), "messages": rows, "median_ms": statistics.median(times), "min_ms": min(times)}


def main(argv=None):
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--recipients", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--aliyun", action="store_true", help="the outbox through the Aliyun backend vs the raw SDK")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.aliyun:
        import os

        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as tmp:
            engine = _database(args.postgres, Path(tmp))
            figures = bench_aliyun(sessionmaker(engine, expire_on_commit=False), args.messages, args.rounds)
            engine.dispose()
        box, raw = figures["outbox"], figures["raw"]
        print(f"database: {engine.dialect.name}; {args.messages} messages × {args.rounds} rounds")
        print(
            f"outbox → aliyun backend → stand-in: median {statistics.median(box):.0f} msg/s "
            f"({', '.join(f'{x:.0f}' for x in box)})"
        )
        print(
            f"raw dysmsapi SDK loop → stand-in:   median {statistics.median(raw):.0f} msg/s "
            f"({', '.join(f'{x:.0f}' for x in raw)})"
        )
        print(f"outbox / raw: {statistics.median(box) / statistics.median(raw):.2f}")
        print(f"load average: {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
        return
    with tempfile.TemporaryDirectory() as tmp, FakeTwilio(auto_callbacks=False) as fake:
        engine = _database(args.postgres, Path(tmp))
        sf = sessionmaker(engine, expire_on_commit=False)
        gw = create_gateway(
            "twilio",
            {
                "account_sid": fake.account_sid,
                "auth_token": fake.auth_token,
                "from": "+15005550006",
                "base_url": fake.base_url,
                "timeout_s": 5,
            },
        )
        gw.send(OutgoingSms("+8613900000000", "warm-up", reference="w"))
        through = bench_throughput(sf, gw, fake, args.messages)
        cost = bench_dispatch(sf, args.recipients, args.runs)
        gw.close()
        engine.dispose()
    print(f"database: {engine.dialect.name}")
    print(f"raw twilio client → fake: {through['raw_per_s']:.0f} msg/s")
    print(f"outbox drain → fake:      {through['outbox_per_s']:.0f} msg/s ({through['ratio']:.2f}× raw)")
    print(
        f"dispatch of {cost['recipients']} recipients ({cost['messages']} SMS rows, one transaction): "
        f"median {cost['median_ms']:.1f} ms, min {cost['min_ms']:.1f} ms over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
