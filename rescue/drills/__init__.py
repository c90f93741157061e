"""Drills (AQ/T 9007-2019): plans and their runs, reminders with RSVP, drill mode through the real dispatch
pipeline, records and evaluations (AQ/T 9009-2015), and the compliance every enterprise must keep.

Modules: `schemas` (every request and response model), `plans` (plans, recurrence, runs made ahead, participants),
`reminders` (the reminder job), `rsvp` (replies to reminders), `runs` (drill mode, turnout measurement),
`records` (recording a run), `serialize` (what the API returns), `compliance`, `seed`.

What the edges of the app use (the worker's jobs, the SMS webhook, the seed loader) is re-exported here.
"""

from rescue.drills.reminders import plan_runs, send_due_reminders
from rescue.drills.rsvp import apply_rsvp
from rescue.drills.seed import seed_drills

__all__ = ["apply_rsvp", "plan_runs", "seed_drills", "send_due_reminders"]
