"""The kinds of registry record: model, schemas, filters and ownership, in one table."""

from dataclasses import dataclass, field

from rescue.models import (
    Capability,
    ContactPerson,
    Depot,
    Enterprise,
    Equipment,
    EscalationChainEntry,
    Expert,
    IncidentType,
    RosterShift,
    SupplyLot,
    Team,
)
from rescue.models.enums import Level
from rescue.registry import schemas
from rescue.validation import partial


@dataclass(frozen=True)
class Kind:
    """How one kind of record is stored, validated, filtered and owned."""

    name: str  # URL segment and audit name
    label: str  # Chinese name shown to people
    model: type
    schema_in: type
    schema_out: type
    key: str = "id"
    # input list field → relationship holding Capability rows
    code_fields: dict[str, str] = field(default_factory=dict)
    # query parameters that filter by equality on a column of the same name
    filters: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ("name",)
    sortable: tuple[str, ...] = ("id", "name")
    located: bool = False  # lat/lon are columns (else derived from a custodian)
    # "enterprise_id": owned through that column; "self": the record is the enterprise; None: shared reference data
    owner: str | None = "enterprise_id"
    tracked: bool = True  # has a name and last_confirmed_dt (freshness applies)
    # id fields → the model they point at; a referenced row must have the record's owner (see rescue.registry.access)
    references: dict[str, type] = field(default_factory=dict)
    # fields only the command center may change: None for any value, else the values it alone may set or unset
    command_center_fields: dict[str, frozenset | None] = field(default_factory=dict)

    @property
    def schema_patch(self):
        return _patches.setdefault(self.name, partial(self.schema_in))

    @property
    def capability_relation(self) -> str | None:
        return next(iter(self.code_fields.values()), None)


_patches: dict[str, type] = {}
# certification levels: a team or depot is national or provincial because the command center says so
_CERTIFIED_LEVELS = frozenset({Level.national, Level.provincial})
_TRACKED_SORT = ("id", "name", "updated_dt", "last_confirmed_dt")

KINDS: dict[str, Kind] = {
    k.name: k
    for k in [
        Kind(
            "enterprises",
            "企业",
            Enterprise,
            schemas.EnterpriseIn,
            schemas.EnterpriseOut,
            filters=("industry", "city", "county", "drill_every_6_months"),
            text_columns=("name", "address", "credit_code"),
            sortable=_TRACKED_SORT,
            located=True,
            owner="self",
            # the legal duty to drill follows from the industry (应急条例第八条): not the enterprise's own choice
            command_center_fields={"industry": None, "drill_every_6_months": None},
        ),
        Kind(
            "depots",
            "储备库",
            Depot,
            schemas.DepotIn,
            schemas.DepotOut,
            filters=("level", "city", "county", "enterprise_id"),
            text_columns=("name", "address"),
            sortable=_TRACKED_SORT,
            located=True,
            command_center_fields={"level": _CERTIFIED_LEVELS},
        ),
        Kind(
            "teams",
            "救援队伍",
            Team,
            schemas.TeamIn,
            schemas.TeamOut,
            code_fields={"capabilities": "capability_rows"},
            filters=("level", "team_type", "city", "county", "status", "backbone", "verified", "enterprise_id", "duty_24h"),
            text_columns=("name", "place", "commander_name"),
            sortable=(*_TRACKED_SORT, "turnout_min", "headcount"),
            located=True,
            command_center_fields={"backbone": None, "verified": None, "level": _CERTIFIED_LEVELS},
        ),
        Kind(
            "experts",
            "专家",
            Expert,
            schemas.ExpertIn,
            schemas.ExpertOut,
            code_fields={"fields": "field_rows"},
            filters=("city", "county", "availability", "remote_ok", "enterprise_id"),
            text_columns=("name", "title", "employer"),
            sortable=_TRACKED_SORT,
            located=True,
        ),
        Kind(
            "equipment",
            "装备",
            Equipment,
            schemas.EquipmentIn,
            schemas.EquipmentOut,
            code_fields={"capabilities": "capability_rows"},
            filters=("equipment_type", "status", "team_id", "depot_id", "enterprise_id"),
            text_columns=("name", "model", "equipment_type"),
            sortable=(*_TRACKED_SORT, "quantity", "next_inspection"),
            references={"team_id": Team, "depot_id": Depot},
        ),
        Kind(
            "supplies",
            "物资",
            SupplyLot,
            schemas.SupplyLotIn,
            schemas.SupplyLotOut,
            filters=("code", "unit", "depot_id", "enterprise_id"),
            text_columns=("name", "spec", "code"),
            sortable=(*_TRACKED_SORT, "quantity", "expiry_date", "code"),
            references={"depot_id": Depot},
        ),
        Kind(
            "contacts",
            "联系人",
            ContactPerson,
            schemas.ContactIn,
            schemas.ContactOut,
            filters=("role", "team_id", "enterprise_id", "phone"),
            text_columns=("name", "organisation", "phone"),
            sortable=_TRACKED_SORT,
            references={"team_id": Team},
        ),
        Kind(
            "roster-shifts",
            "值班表",
            RosterShift,
            schemas.RosterShiftIn,
            schemas.RosterShiftOut,
            filters=("team_id", "contact_id", "enterprise_id"),
            text_columns=("note",),
            sortable=("id", "starts_dt", "ends_dt"),
            tracked=False,
            references={"team_id": Team, "contact_id": ContactPerson},
        ),
        Kind(
            "escalation-chains",
            "升级链",
            EscalationChainEntry,
            schemas.EscalationStepIn,
            schemas.EscalationStepOut,
            filters=("team_id", "contact_id", "enterprise_id"),
            text_columns=(),
            sortable=("id", "position"),
            tracked=False,
            references={"team_id": Team, "contact_id": ContactPerson},
        ),
        Kind(
            "capabilities",
            "能力",
            Capability,
            schemas.CapabilityIn,
            schemas.CapabilityOut,
            key="code",
            filters=("category",),
            text_columns=("code", "name"),
            sortable=("code", "name"),
            owner=None,
        ),
        Kind(
            "incident-types",
            "事件类型",
            IncidentType,
            schemas.IncidentTypeIn,
            schemas.IncidentTypeOut,
            key="code",
            filters=("industry",),
            text_columns=("code", "name"),
            sortable=("code", "name"),
            owner=None,
        ),
    ]
}
