"""The worker: scheduled jobs (SMS outbox, escalation timers, …) run by exactly one leading process.

Jobs are module-level functions `job(session_factory, gateway, *, now, **needs)`; adding one is one line:

    register_job("send_due_reminders", drills.send_due_reminders, seconds=60)

Leadership is a PostgreSQL advisory lock held on its own connection (a second worker waits as a hot
standby and takes over when the leader's connection goes); on SQLite it is an exclusive file lock.
"""

import atexit
import fcntl
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import click
from apscheduler.schedulers.background import BackgroundScheduler
from flask import current_app
from flask.cli import with_appcontext
from flask.logging import default_handler
from sqlalchemy import text

from rescue import cards, drills, logs
from rescue.db import utcnow
from rescue.dispatch import escalation, outbox
from rescue.drills import compliance
from rescue.readiness import certificates, deployments, inspections

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x5245_5343  # "RESC"


@dataclass(frozen=True)
class Job:
    name: str
    func: object
    seconds: float
    # extra keyword arguments the runner supplies by name: "settings", "rate_limiter", "voice_gateway"
    needs: tuple[str, ...] = ()


JOBS: dict[str, Job] = {}


def register_job(name: str, func, *, seconds: float, needs: tuple[str, ...] = ()) -> None:
    """Run `func(session_factory, gateway, *, now, **needs)` every `seconds` in the leading worker."""
    JOBS[name] = Job(name, func, seconds, needs)


register_job("drain_outbox", outbox.drain_outbox, seconds=1, needs=("settings", "rate_limiter"))
register_job("drain_calls", outbox.drain_calls, seconds=2, needs=("voice_gateway", "settings"))
register_job("escalate_due", escalation.escalate_due, seconds=5, needs=("settings",))
register_job("send_due_reminders", drills.send_due_reminders, seconds=60, needs=("settings",))
register_job("compliance_reminders", compliance.send_compliance_reminders, seconds=3600, needs=("settings",))
register_job("card_review_reminders", cards.send_review_reminders, seconds=3600, needs=("settings",))
register_job("build_deployments", deployments.build_due, seconds=60)
register_job("certificate_expiry_reminders", certificates.send_expiry_reminders, seconds=3600, needs=("settings",))
register_job("inspection_due_reminders", inspections.send_due_reminders, seconds=3600, needs=("settings",))


# -- leadership ------------------------------------------------------------------------------------


class PostgresLeader:
    """Holds `pg_try_advisory_lock` on a dedicated connection; losing the connection loses leadership."""

    def __init__(self, engine, key: int = ADVISORY_KEY):
        self.engine, self.key = engine, key
        self.conn = None

    def try_acquire(self) -> bool:
        if self.conn is None:
            self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        return bool(got)

    def still_held(self) -> bool:
        try:
            return bool(
                self.conn.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objid = :k"),
                    {"k": self.key & 0xFFFFFFFF},
                ).scalar()
            )
        except Exception:  # noqa: BLE001 - any connection failure means the lock is gone
            log.exception("leader connection lost")
            return False

    def holder(self) -> str:
        """Who holds the lock now, for the standby's message."""
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT a.pid, a.client_addr, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.granted LIMIT 1"
                ),
                {"k": self.key & 0xFFFFFFFF},
            ).first()
        return f"PostgreSQL 会话 {row.pid} ({row.client_addr or '本机'})" if row else "另一个进程"

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            finally:
                self.conn.close()
                self.conn = None


class FileLeader:
    """An exclusive `flock` on a file in the instance folder (SQLite: one machine)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd = None

    def try_acquire(self) -> bool:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)  # who leads, for a standby's message
        return True

    def holder(self) -> str:
        """Who holds the lock now, for the standby's message."""
        try:
            pid = self.path.read_text().strip()
        except OSError:
            pid = ""
        return f"进程 {pid}" if pid else "另一个进程"

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def make_leader(app):
    engine = app.extensions["db"].engine
    if engine.dialect.name == "postgresql":
        return PostgresLeader(engine)
    return FileLeader(Path(app.instance_path) / "worker.lock")


# -- running jobs ----------------------------------------------------------------------------------


class Worker:
    """Runs the registered jobs on an APScheduler BackgroundScheduler while it leads."""

    def __init__(self, app, *, jobs: dict[str, Job] | None = None, interval_scale: float = 1.0, standby_poll_s: float = 2.0):
        self.app = app
        self.jobs = dict(jobs if jobs is not None else JOBS)
        self.interval_scale = interval_scale
        self.standby_poll_s = standby_poll_s
        self.session_factory = app.extensions["db"].session_factory
        self.gateway = app.extensions["sms_gateway"]
        settings = app.extensions["alert_settings"]
        self.needs = {
            "settings": settings,
            "rate_limiter": outbox.limiter_for(self.gateway, settings.rate_per_s),
            "voice_gateway": app.extensions.get("voice_gateway"),
        }
        self.leader = make_leader(app)
        self.stopping = threading.Event()
        self.leading = threading.Event()
        self.scheduler = None
        self.thread = None

    def run_job(self, job: Job, *, now=None) -> object:
        kwargs = {name: self.needs[name] for name in job.needs}
        try:
            return job.func(self.session_factory, self.gateway, now=now or utcnow(), **kwargs)
        except Exception:  # noqa: BLE001 - rows stay queued/timed; the next tick tries again
            log.exception("job %s failed; it runs again next tick", job.name)
            return None

    def run_once(self, *, now=None) -> dict:
        """Every job once, in registration order (tests, `worker --once`)."""
        return {name: self.run_job(job, now=now) for name, job in self.jobs.items()}

    def _lead(self) -> None:
        """Became leader: resolve what a dead leader left mid-send, then tick until stopped or the lock is lost."""
        self.leading.set()
        log.info("worker %s leads", os.getpid())
        outbox.recover_sending(self.session_factory, now=utcnow(), everything=True, settings=self.needs["settings"])
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        for job in self.jobs.values():
            self.scheduler.add_job(
                self.run_job,
                "interval",
                args=[job],
                seconds=job.seconds * self.interval_scale,
                id=job.name,
                name=job.name,
                next_run_time=utcnow(),
            )
        self.scheduler.start()
        try:
            while not self.stopping.wait(self.standby_poll_s):
                if not self.leader.still_held():
                    log.error("worker lost leadership; back to standby")
                    break
        finally:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
            self.leading.clear()

    def run(self) -> None:
        """Wait as a standby until leading, lead, and repeat until `stop()`."""
        announced = False
        while not self.stopping.is_set():
            try:
                acquired = self.leader.try_acquire()
            except Exception:  # noqa: BLE001 - database away: keep waiting
                log.exception("cannot reach the database for the leader lock")
                acquired = False
                self.leader.release()
            if acquired:
                try:
                    self._lead()
                finally:
                    self.leader.release()
            else:
                if not announced:  # once per standby spell, not every poll
                    log.warning("%s 正在领导调度并发送短信; 本进程 %s 待命, 它停止后接替", self._holder(), os.getpid())
                    announced = True
                self.stopping.wait(self.standby_poll_s)
                continue
            announced = False

    def _holder(self) -> str:
        try:
            return self.leader.holder()
        except Exception:  # noqa: BLE001 - only for the message
            return "另一个进程"

    def start(self) -> "Worker":
        """Run in a daemon thread (the embedded default)."""
        self.thread = threading.Thread(target=self.run, name="rescue-worker", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout)


def init_app(app) -> None:
    """With RUN_SCHEDULER (the embedded default only) run the worker in a background thread."""
    if app.config["RUN_SCHEDULER"]:
        worker = Worker(app).start()
        app.extensions["worker"] = worker
        atexit.register(worker.stop)


def _idle(session_factory) -> bool:
    with session_factory() as session:
        depth = outbox.queue_depth(session)
    return depth["queued"] == 0 and depth["sending"] == 0


@click.command("worker")
@click.option("--once", is_flag=True, help="run every job once and exit")
@click.option("--exit-when-idle", is_flag=True, help="exit once the outbox is empty (tests, catching up)")
@click.option("--interval-scale", type=float, default=1.0, show_default=True, help="multiply every job's interval")
@with_appcontext
def worker_command(once, exit_when_idle, interval_scale):
    """Run the scheduler (SMS outbox, escalation timers, …); one worker leads, others wait as standbys."""
    app = current_app._get_current_object()  # noqa: SLF001 - the worker outlives the app context
    logs.setup()
    app.logger.removeHandler(default_handler)  # the root handler prints it; Flask's own would print each line twice
    worker = Worker(app, interval_scale=interval_scale, standby_poll_s=0.5 if exit_when_idle else 2.0)
    if once:
        outbox.recover_sending(worker.session_factory, now=utcnow(), everything=False, settings=worker.needs["settings"])
        click.echo(repr(worker.run_once()))
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stopping.set())
    worker.start()
    click.echo(f"worker {os.getpid()} started ({', '.join(worker.jobs)})")
    while worker.thread.is_alive():
        worker.thread.join(0.2)
        if exit_when_idle and worker.leading.is_set() and _idle(worker.session_factory):
            time.sleep(0.3)
            if _idle(worker.session_factory):
                worker.stop()
    click.echo("worker stopped")
