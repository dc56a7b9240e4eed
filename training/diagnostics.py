"""What a trained model says about itself: parameters, EM sessions, charts.

- `parameters(settings)`: one row per comparison level with m, u, Bayes factor and match
  weight, read from the trained Splink settings JSON (the model is data).
- `em_sessions(linker)`: per EM round, its blocking rule, iterations, whether it
  converged (largest parameter change below `em_convergence`) and its λ estimate.
- `save_charts(...)`: Splink's own charts (match weights, m/u parameters, match-weight
  histogram, and with labels precision-recall and threshold selection) as self-contained
  HTML and, when `vl-convert-python` is installed, PNG.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _bf(m: float | None, u: float | None) -> float | None:
    if m is None or u is None or u == 0:
        return None
    return m / u


def parameters(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """m, u, Bayes factor and match weight (log2 Bayes factor) of every non-null level."""
    rows = []
    for comp in settings.get("comparisons", []):
        for i, level in enumerate(comp.get("comparison_levels", [])):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            bf = _bf(m, u)
            rows.append(
                {
                    "comparison": comp["output_column_name"],
                    "level": i,
                    "label": level.get("label_for_charts", level["sql_condition"][:60]),
                    "m_probability": m,
                    "u_probability": u,
                    "bayes_factor": bf,
                    "match_weight": math.log2(bf) if bf and bf > 0 else None,
                    "tf_adjusted": bool(level.get("tf_adjustment_column")),
                }
            )
    return rows


def em_sessions(linker) -> list[dict[str, Any]]:
    """Iterations, convergence and λ of each EM session the linker ran."""
    from splink.internals.expectation_maximisation import (
        _max_change_in_parameters_comparison_levels,
    )

    out = []
    for i, session in enumerate(getattr(linker, "_em_training_sessions", [])):
        history = getattr(session, "_core_model_settings_history", None) or []
        iterations = max(len(history) - 1, 0)
        ts = session.training_settings
        change = None
        if len(history) >= 2:
            change = float(_max_change_in_parameters_comparison_levels(history)[
                "max_abs_change_value"])
        out.append(
            {
                "session": i + 1,
                "blocking_rule": session._blocking_rule_for_training.blocking_rule_sql,
                "iterations": iterations,
                "max_iterations": int(ts.max_iterations),
                "em_convergence": float(ts.em_convergence),
                "final_max_change": change,
                "converged": change is not None and change < ts.em_convergence,
                "probability_two_random_records_match": float(
                    session.core_model_settings.probability_two_random_records_match
                ),
                # Splink's EM sampling (model.training.em_max_pairs): estimated blocked
                # pairs, and about how many the round used when it sampled
                **_sampling(session),
                "fixed_columns": sorted(
                    {info["comparison"].output_column_name
                     for info in session._comparison_levels_to_reverse_blocking_rule}
                ),
            }
        )
    return out


def _sampling(session) -> dict[str, Any]:
    info = getattr(session, "_sample_info", None) or {}
    est, after = info.get("estimated_total_pairs"), info.get("expected_pairs_after_sampling")
    return {
        "pairs_sampled": bool(info.get("sampling_applied")),
        "blocked_pairs_estimate": float(est) if est is not None else None,
        "pairs_used_estimate": float(after) if after is not None else None,
    }


def png_available() -> bool:
    try:
        import altair  # noqa: F401
        import vl_convert  # noqa: F401
    except ImportError:
        return False
    return True


def save_chart(chart, folder: Path, stem: str, png: bool = True) -> list[Path]:
    """Save a SplinkChart as `stem.html` (self-contained) and `stem.png` when possible."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / f"{stem}.html"]
    written[0].write_text(chart.to_html(inline=True), "utf-8")
    if png and png_available():
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Altair's notes on Splink's chart specs
                chart.save(str(folder / f"{stem}.png"), scale_factor=1.5)
            written.append(folder / f"{stem}.png")
        except Exception as exc:
            log.warning("could not render %s.png: %s", stem, exc)
    return written
