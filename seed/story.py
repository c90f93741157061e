"""The demo's past incident: a toxic-gas leak in 宁东煤化工园区 three days before seeding, closed, with its timeline.

It is played through the dispatch services, so its timeline is the one a real run writes: the incident placed,
SMS sent and delivered, one team accepting, one declining (nobody left in the ranking: the dispatcher sends
another team), one silent until its timer escalates to the next person of its chain, replies with arrival
times, teams en route and on scene, released, the incident closed and its deployment records drafted.

Nothing of it is ever sent. Each SMS the services queue is recorded at once as accepted and delivered by a
provider named "demo" (so no row is left for the outbox), and the replies come in as a webhook hands them over.
The road network is not loaded while seeding, so the dispatches are manual ones and store no arrival time or
route (left empty, as the services store a manual dispatch); the minutes on the timeline are those the
responders reported by SMS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import DeliveryReceipt, InboundSms
from rescue.clock import CHINA
from rescue.dispatch import dispatches, escalation, incidents, outbox, replies
from rescue.messaging.gateway import AlertSettings
from rescue.models import Assignment, Incident, OutboxMessage, User
from rescue.models.enums import OPEN_ASSIGNMENT_STATUSES, AssignmentStatus, IncidentStatus

DAYS_AGO = 3
PROVIDER = "demo"
DISPATCHER = "dispatcher"
# seconds after a step at which its SMS were accepted by the provider and reported delivered (one per second)
SENT_AFTER_S, DELIVERED_AFTER_S = 2, 7

INCIDENT = {
    "type": "chem_toxic_gas_leak",
    "level": "general",
    "lat": 38.0648,
    "lon": 106.5723,
    "place": "宁东煤化工园区",
    "description": (
        "14:18 园区企业报告: 合成氨装置区液氨输送管线法兰垫片失效泄漏, 下风向约300米可闻到氨味; "
        "2名巡检人员吸入后咽喉不适, 已自行撤离。企业已关闭上下游阀门, 泄漏未止。"
        "(演示案例, 非真实事件)"
    ),
    "needs": [
        {"capability": "hazmat_leak_control", "quantity": 2},
        {"capability": "gas_protection", "quantity": 1},
        {"capability": "medical_first_aid", "quantity": 1},
        {"capability": "chemical_process_safety", "quantity": 1, "unit": "person"},
    ],
}

# (Beijing time on the day, what happens, its arguments); resources by their seed keys, needs by position
SCRIPT: tuple[tuple[str, str, dict], ...] = (
    ("14:21:30", "incident", {}),
    (
        "14:24:10",
        "dispatch",
        {
            "resources": [
                ("team", "ningdong_fire", 0),
                ("team", "baofeng_hazmat", 0),
                ("team", "ningxia_coal_rescue", 1),
                ("team", "yinchuan_120", 2),
                ("expert", "expert_017", 3),
            ],
            "muster_point": "园区东门",
            "note": "氨泄漏, 下风向人员疏散中",
        },
    ),
    ("14:25:05", "reply", {"resource": ("team", "ningdong_fire"), "text": "{code} 1"}),
    ("14:25:40", "reply", {"resource": ("team", "baofeng_hazmat"), "text": "{code} 2 本队正在厂区检修保运, 无法出动"}),
    ("14:26:20", "reply", {"resource": ("team", "yinchuan_120"), "text": "{code} 1 约40分钟到"}),
    ("14:26:50", "reply", {"resource": ("expert", "expert_017"), "text": "{code} 收到"}),
    ("14:27:30", "reply", {"resource": ("team", "ningdong_fire"), "text": "{code} 15分钟"}),
    (
        "14:28:40",
        "dispatch",
        {
            "resources": [("team", "petrochem_rescue", 0)],
            "muster_point": "园区东门",
            "note": "宝丰专职队拒绝, 改派宁夏石化救援队",
        },
    ),
    # 神华宁煤's commander has not answered: at 14:29:10 its timer pages the deputy
    ("14:29:45", "reply", {"resource": ("team", "petrochem_rescue"), "text": "{code} 1"}),
    ("14:30:05", "reply", {"resource": ("team", "ningxia_coal_rescue"), "text": "{code} 1 马上出发"}),
    ("14:31:20", "reply", {"resource": ("team", "petrochem_rescue"), "text": "{code} 50分钟"}),
    ("14:36:40", "reply", {"resource": ("team", "ningxia_coal_rescue"), "text": "{code} 到达"}),
    ("14:41:30", "reply", {"resource": ("team", "ningdong_fire"), "text": "{code} 已到达现场"}),
    ("15:06:10", "reply", {"resource": ("team", "yinchuan_120"), "text": "{code} 到了"}),
    ("15:19:25", "reply", {"resource": ("team", "petrochem_rescue"), "text": "{code} 到达"}),
    ("16:18:00", "release", {"resource": ("expert", "expert_017"), "note": "堵漏方案已实施, 电话会商结束"}),
    ("16:40:00", "release", {"note": "泄漏点已堵漏, 下风向氨浓度检测合格, 撤离现场"}),
    ("16:52:00", "close", {}),
    ("16:53:00", "deployments", {}),
)


@dataclass
class Story:
    """What the script made (for the seed's summary and tests)."""

    incident_id: int | None = None
    number: str = ""
    steps: list[str] = field(default_factory=list)


def play(session: Session, ids: dict[str, dict[str, int]], *, area, now: datetime, settings: AlertSettings) -> Story:
    """Play SCRIPT on the day `DAYS_AGO` before `now` (Beijing time); flushed, not committed."""
    day = (now - timedelta(days=DAYS_AGO)).astimezone(CHINA).date()
    # the demo dispatcher handled it (outside demo mode there is none: the steps then name the role only)
    actor = session.scalars(select(User).where(User.username == DISPATCHER)).first()
    run = _Run(session, ids, area=area, settings=settings, actor=actor)
    last = None
    for clock, action, args in SCRIPT:
        at = datetime.combine(day, time.fromisoformat(clock), tzinfo=CHINA).astimezone(UTC)
        if last is not None and at <= last:
            msg = f"演示案例的时间须逐步递增: {clock}"
            raise ValueError(msg)
        run.timers_until(at)
        getattr(run, "do_" + action)(at, **args)
        run.send_queued(at)
        run.story.steps.append(f"{clock} {action}")
        last = at
    run.check()
    return run.story


class _Run:
    """The script's state: the incident, and the services each step calls."""

    def __init__(self, session: Session, ids, *, area, settings: AlertSettings, actor: User | None) -> None:
        self.session, self.ids, self.area, self.settings, self.actor = session, ids, area, settings, actor
        self.incident: Incident | None = None
        self.story = Story()
        self.replies = 0

    # -- steps ---------------------------------------------------------------------------------------
    def do_incident(self, at: datetime) -> None:
        self.incident = incidents.create_incident(self.session, None, dict(INCIDENT), area=self.area, actor=self.actor, now=at)
        self.story.incident_id, self.story.number = self.incident.id, self.incident.number

    def do_dispatch(self, at: datetime, *, resources: list[tuple[str, str, int]], note: str = "", muster_point: str = "") -> None:
        needs = self.incident.needs
        asked = [
            {"kind": kind, "id": self.ids[kind + "s"][key], "need_id": needs[position].id} for kind, key, position in resources
        ]
        checked = dispatches.validate_resources(self.session, self.incident, asked)
        dispatches.create_dispatch(
            self.session,
            self.incident,
            resources=checked,
            muster_point=muster_point,
            note=note,
            actor=self.actor,
            settings=self.settings,
            now=at,
        )

    def do_reply(self, at: datetime, *, resource: tuple[str, str], text: str) -> None:
        assignment = self._assignment(*resource)
        last = self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.assignment_id == assignment.id, OutboxMessage.channel == "sms")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).one()  # whoever was paged last answers
        self.replies += 1
        sms = InboundSms(
            from_=last.to_phone,
            to="",
            body=text.format(code=assignment.reply_code),
            provider_id=f"{PROVIDER}-in-{self.replies}",
            received_at=at,
        )
        record = replies.handle_inbound(self.session, sms, provider=PROVIDER, now=at, settings=self.settings)
        if record.outcome != "applied":
            msg = f"演示案例的回复未被应用 ({record.outcome}): {sms.body}"
            raise RuntimeError(msg)

    def do_release(self, at: datetime, *, note: str, resource: tuple[str, str] | None = None) -> None:
        """The dispatcher releases one resource, or every one still engaged."""
        for assignment in [self._assignment(*resource)] if resource else self._assignments():
            if assignment.status.value in OPEN_ASSIGNMENT_STATUSES:
                escalation.correct(self.session, assignment, "released", note, actor=DISPATCHER, now=at, settings=self.settings)

    def do_close(self, at: datetime) -> None:
        incidents.update_incident(self.session, self.incident.id, {"status": "closed"}, area=self.area, now=at, actor=DISPATCHER)

    def do_deployments(self, at: datetime) -> None:
        # what the worker's build_deployments job drafts within a minute of the close, marked as demo records
        from rescue.readiness import deployments as records

        for record in records.build_for_incident(self.session, self.incident.id, now=at):
            record.demo = True

    # -- what runs between steps ---------------------------------------------------------------------
    def timers_until(self, at: datetime) -> None:
        """Act on every timer of the incident run out before `at`, as the escalate_due job does (within seconds)."""
        if self.incident is None:
            return
        while True:
            due = self.session.scalars(
                select(Assignment)
                .where(
                    Assignment.incident_id == self.incident.id,
                    Assignment.status == AssignmentStatus.notified,
                    Assignment.deadline_dt.is_not(None),
                    Assignment.deadline_dt < at,
                )
                .order_by(Assignment.deadline_dt, Assignment.id)
                .limit(1)
            ).first()
            if due is None:
                return
            moment = due.deadline_dt + timedelta(seconds=3)
            escalation.on_silence(self.session, due, now=moment, settings=self.settings)
            self.send_queued(moment)

    def send_queued(self, at: datetime) -> None:
        """Record every queued SMS of the incident as accepted, then delivered, by the demo provider."""
        if self.incident is None:
            return
        self.session.flush()
        rows = self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.incident_id == self.incident.id, OutboxMessage.status == "queued")
            .order_by(OutboxMessage.id)
        ).all()
        for i, row in enumerate(rows):
            provider_id = f"{PROVIDER}-{row.id}"
            outbox.mark_sent(self.session, row, PROVIDER, provider_id, "sent", at + timedelta(seconds=SENT_AFTER_S + i))
        for i, row in enumerate(rows):
            receipt = DeliveryReceipt(
                provider_id=f"{PROVIDER}-{row.id}", status="delivered", reference=str(row.id), to=row.to_phone
            )
            when = at + timedelta(seconds=DELIVERED_AFTER_S + i)
            replies.handle_receipt(self.session, receipt, now=when, settings=self.settings, provider=PROVIDER)
        self.session.flush()

    # -- lookups and the final check -----------------------------------------------------------------
    def _assignments(self) -> list[Assignment]:
        return list(
            self.session.scalars(select(Assignment).where(Assignment.incident_id == self.incident.id).order_by(Assignment.id))
        )

    def _assignment(self, kind: str, key: str) -> Assignment:
        resource_id = self.ids[kind + "s"][key]
        found = [a for a in self._assignments() if a.resource_kind.value == kind and a.resource_id == resource_id]
        if not found:
            msg = f"演示案例中 {key} 未被调派"
            raise RuntimeError(msg)
        return found[-1]

    def check(self) -> None:
        """The story ends closed, with nothing left for the outbox or the escalation timers."""
        waiting = self.session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.incident_id == self.incident.id, OutboxMessage.status.in_(("queued", "sending"))
            )
        ).all()
        open_ = [a.resource_name for a in self._assignments() if a.status.value in OPEN_ASSIGNMENT_STATUSES]
        if self.incident.status != IncidentStatus.closed or waiting or open_:
            msg = f"演示案例未正常结束: 状态 {self.incident.status}, 待发短信 {len(waiting)}, 未解除 {open_}"
            raise RuntimeError(msg)
