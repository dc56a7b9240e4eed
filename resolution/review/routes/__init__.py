"""The review app's pages and form posts, one module per thing a user does.

- `session` — signing in and out, the interface language.
- `queue` — the review queue (and `/`, which leads to it): search, sort, claims, bulk
  confirm, and where "save & next" leads.
- `entity` — one entity's page and the steward decisions taken on it (confirm, split,
  move, merge, mark different, comment, undo).
- `audit` — the decision log, as a page and as CSV.
- `users` — the admin's user management and the latest refusals.
- `label` — labelling record pairs one at a time (the queue of `er label next`,
  recorded as `er label add` records them).

Each module has a `router` (`fastapi.APIRouter`) that `resolution.review.app.create_app`
includes; routes take the user and the checked form from `resolution.review.web`.
"""
