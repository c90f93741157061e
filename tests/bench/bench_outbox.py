"""SMS outbox benchmark: throughput to the loopback fake Twilio vs raw twilio-client sends, and dispatch cost.

    python -m tests.bench.bench_outbox [--messages 300] [--postgres URL]
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
    incident = Incident(number=f"BENCH-{time.time_ns()}", type_code=itype.code, level=IncidentLevel.larger, lat=38.1,
                        lon=106.5, place="宁东镇", created_dt=NOW)
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
        s.add_all([OutboxMessage(to_phone=p, recipient_name="bench", body=f"【宁夏应急】基准测试发件箱{i}", segments=1,
                                 next_attempt_dt=NOW, created_dt=NOW, status_dt=NOW) for i, p in enumerate(phones)])
        s.commit()
    t = time.perf_counter()
    result = outbox.drain_outbox(sf, gw, now=NOW, limit=n + 10)
    box_s = time.perf_counter() - t
    assert result.sent == n and len(fake.messages) == n, (result, len(fake.messages))
    return {"raw_per_s": n / raw_s, "outbox_per_s": n / box_s, "ratio": (n / box_s) / (n / raw_s)}


def bench_dispatch(sf, recipients: int, runs: int) -> dict:
    times = []
    for _ in range(runs):
        with sf() as s:
            teams = s.scalars(select(Team).order_by(Team.id).limit(recipients)).all()
            incident = _incident(s)
            t = time.perf_counter()
            d = dispatches.create_dispatch(s, incident, resources=[{"kind": "team", "id": tm.id, "need_id": None}
                                                                   for tm in teams], now=NOW)
            s.commit()
            times.append((time.perf_counter() - t) * 1000)
            rows = s.scalar(select(outbox.func.count()).select_from(OutboxMessage).join(dispatches.Assignment)
                            .where(dispatches.Assignment.dispatch_id == d.id))
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, FakeTwilio(auto_callbacks=False) as fake:
        engine = _database(args.postgres, Path(tmp))
        sf = sessionmaker(engine, expire_on_commit=False)
        gw = create_gateway("twilio", {"account_sid": fake.account_sid, "auth_token": fake.auth_token,
                                       "from": "+15005550006", "base_url": fake.base_url, "timeout_s": 5})
        gw.send(OutgoingSms("+8613900000000", "warm-up", reference="w"))
        through = bench_throughput(sf, gw, fake, args.messages)
        cost = bench_dispatch(sf, args.recipients, args.runs)
        gw.close()
        engine.dispose()
    print(f"database: {engine.dialect.name}")
    print(f"raw twilio client → fake: {through['raw_per_s']:.0f} msg/s")
    print(f"outbox drain → fake:      {through['outbox_per_s']:.0f} msg/s ({through['ratio']:.2f}× raw)")
    print(f"dispatch of {cost['recipients']} recipients ({cost['messages']} SMS rows, one transaction): "
          f"median {cost['median_ms']:.1f} ms, min {cost['min_ms']:.1f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
