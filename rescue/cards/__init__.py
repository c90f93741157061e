"""Response cards (应急处置卡): `schemas` (requests and responses), `cards` (versions, live links, prints, the
short form, the QR code's link), `reviews` (the review-reminder job), `pdf` (the printable page).

What the edges of the app use (the worker's jobs) is re-exported here.
"""

from rescue.cards.reviews import send_review_reminders

__all__ = ["send_review_reminders"]
