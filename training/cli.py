"""`er models …`: the MLflow model registry from the command line.

    er models list [NAME]
    er models promote NAME VERSION --alias champion

Added to the main `er` app in `resolution.cli` with one `add_typer` line.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from resolution.cli_errors import user_errors

models_app = typer.Typer(
    name="models",
    help="List registered models and promote a version to an alias (e.g. champion).\n\n"
    "Example: er models promote customer_zh 3 --alias champion",
    no_args_is_help=True,
    rich_markup_mode=None,
)
out = Console()


@models_app.command("list")
@user_errors
def list_cmd(
    name: Annotated[str | None, typer.Argument(help="registered model name (all if unset)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
):
    """List registered model versions with their aliases and headline metrics.

    Example: er models list customer_zh
    """
    from training.registry import list_models, tracking_uri

    versions = list_models(name)
    if as_json:
        out.print_json(json.dumps([v.as_dict() for v in versions], ensure_ascii=False))
        return
    t = Table(title=f"registered models ({tracking_uri()})")
    for col in ("name", "version", "aliases", "created", "pairs F1", "B-cubed F1", "threshold", "run"):
        t.add_column(col)

    def fmt(v: float | None) -> str:
        return "" if v is None else f"{v:.4f}"

    for v in versions:
        m = v.metrics
        t.add_row(
            v.name, v.version, ", ".join(v.aliases), v.created,
            fmt(m.get("pairs_f1_at_recommended")), fmt(m.get("clusters_bcubed_f1")),
            fmt(m.get("recommended_threshold")), (v.run_id or "")[:12],
        )
    out.print(t)


@models_app.command("promote")
@user_errors
def promote_cmd(
    name: Annotated[str, typer.Argument(help="registered model name")],
    version: Annotated[str, typer.Argument(help="version number to promote")],
    alias: Annotated[str, typer.Option(help="alias to point at this version")] = "champion",
):
    """Point an alias (default: champion) at a model version.

    Jobs then load it with --model models:/NAME@ALIAS.
    Example: er models promote customer_zh 3 --alias champion
    """
    from training.registry import promote

    v = promote(name, version, alias)
    out.print(f"models:/{name}@{alias} -> version {v.version} (run {v.run_id})")
