"""Steward review: a local web app for the entities the job was unsure about.

- `store_access` — how the app shares `store.duckdb` with batch jobs and its requests
  with each other (parallel page reads on cursors, one writer at a time, a wait for the
  file lock, the file left to a waiting job).
- `auth` — users, roles (viewer, steward, admin), salted password hashes, the refusal log.
- `actions` — steward decisions (confirm, split, move, merge, mark different, comment,
  undo): each updates the crosswalk and golden records at once, writes entity events and
  the constraints the next `er dedup` honours, and is one append-only `decisions` row.
- `views` — what the pages read: the queue, an entity with lineage and the model's
  per-comparison explanation of its pairs, history, the audit log.
- `mask` — personal data masked for viewers; `i18n` — Chinese interface, English switch.
- `app` — `create_app`: assembles the FastAPI app (server-rendered Jinja2 templates, no
  build step, no CDN): state, session middleware, error pages, static files, routes.
- `routes/` — the pages, one module per thing a user does: `session` (login, logout,
  language), `queue`, `entity` (the entity page and the decisions), `audit`, `users`.
- `web` — what the routes share: the user and role as FastAPI dependencies, CSRF,
  rendering, refusals.
- `cli` — `er review …`, `er users …` and `er tokens …` (API tokens of `er check serve`,
  owned by `resolution.tokens`).
"""
