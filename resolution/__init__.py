"""Entity resolution for Chinese customer master data.

The public Python API (see `resolution.api`)::

    import resolution as er

    config = er.load_config()                      # the customer_zh preset, or a YAML path
    model = er.load_model("models:/customer_zh_demo@champion")
    summary = er.dedup("customers.csv", config, model, out="out")

Names: `load_config`, `load_model`, `dedup`, `match`, `profile`, `Checker`, `Config`,
`LoadedModel`, `JobSummary`, `MatchSummary` and the errors (`ResolutionError`, ...).
They are loaded on first use, so importing a small module such as `resolution.errors`
(the CLI's start-up) does not pay for DuckDB, Splink and the standardizers.
"""

from __future__ import annotations

from typing import Any

_API = (
    "Checker", "Config", "ConfigError", "InputError", "JobSummary", "LoadedModel",
    "MatchSummary", "ModelError", "ResolutionError", "dedup", "load_config", "load_model",
    "match", "profile",
)
__all__ = list(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        from resolution import api

        return getattr(api, name)
    raise AttributeError(f"module 'resolution' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
