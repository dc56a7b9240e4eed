"""What a trained model says about itself: parameters, EM sessions, charts.

- `parameters(settings)`: one row per comparison level with m, u, Bayes factor and match
  weight, read from the trained Splink settings JSON (the model is data).
- `em_sessions(linker)`: per EM round, its blocking rule, iterations, whether it
  converged (largest parameter change below `em_convergence`) and its λ estimate.
- `training_health(settings, sessions)`: what should worry whoever uses the model: an EM
  round that did not converge, a comparison or level never trained (no m), a learned m
  implausible for its level (exact agreement on fewer than half of the matches). Training
  turns each into a `warning:` line, an MLflow tag and an artifact.
- `key_figures(...)`: the few lines `er train` prints about an unsupervised fit (records,
  pairs for u, λ, EM iterations and convergence per round).
- `save_charts(...)`: Splink's own charts (match weights, m/u parameters, match-weight
  histogram, and with labels precision-recall and threshold selection) as self-contained
  HTML and, when `vl-convert-python` is installed, PNG.
"""

from __future__ import annotations

import logging
import math
import re
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


# An exact-agreement level: both sides' values of one column equal (`"c_l" = "c_r"`).
_EXACT = re.compile(r'^\s*"?(\w+)_l"?\s*=\s*"?(\w+)_r"?\s*$')
# Below this m an exact agreement is implausible: most pairs of one entity agree on a
# column they both fill; fewer than half doing so means EM learned something other than
# duplicates (a household, a chain), or the column is mostly typos.
EXACT_M_MIN = 0.5


def training_health(settings: dict[str, Any], sessions: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    """Problems of a trained model, one dict each: `kind` (em_not_converged, untrained,
    implausible_m), where it is, and `message` (one line for the CLI)."""
    out: list[dict[str, Any]] = []
    for s in sessions:
        if s.get("converged"):
            continue
        change = s.get("final_max_change")
        out.append({
            "kind": "em_not_converged", "session": s["session"],
            "blocking_rule": s["blocking_rule"], "iterations": s["iterations"],
            "final_max_change": change,
            "message": (
                f"EM round {s['session']} (blocked on {s['blocking_rule']}) did not converge: "
                f"{s['iterations']} of at most {s['max_iterations']} iterations, the largest "
                f"parameter change still "
                f"{'unknown' if change is None else f'{change:.2g}'} (limit "
                f"{s['em_convergence']:g}); its m estimates may be unreliable (raise "
                "model.training.em_max_iterations)"),
        })
    for comp in settings.get("comparisons", []):
        name = comp["output_column_name"]
        levels = [lv for lv in comp.get("comparison_levels", []) if not lv.get("is_null_level")]
        untrained = [lv for lv in levels if lv.get("m_probability") is None]
        if untrained and len(untrained) == len(levels):
            out.append({
                "kind": "untrained", "comparison": name, "level": None,
                "message": (f"{name}: never trained (no level has an m): every EM round "
                            "blocked on its columns, or none of its levels occurred; add an "
                            "EM rule that leaves them free (model.training.em_blocking_rules)"),
            })
        else:
            for lv in untrained:
                label = lv.get("label_for_charts", lv["sql_condition"][:60])
                out.append({
                    "kind": "untrained", "comparison": name, "level": label,
                    "message": (f"{name}: level '{label}' was never trained (no m); it "
                                "weighs as the next less similar trained level "
                                "(training.constraints), an estimate no data backs"),
                })
        exact = next((lv for lv in levels if (m := _EXACT.match(lv["sql_condition"]))
                      and m.group(1) == m.group(2)), None)
        if exact is None or exact.get("fix_m_probability"):
            continue
        m_exact = exact.get("m_probability")
        if m_exact is not None and m_exact < EXACT_M_MIN:
            label = exact.get("label_for_charts", "exact")
            out.append({
                "kind": "implausible_m", "comparison": name, "level": label, "m": m_exact,
                "message": (f"{name}: level '{label}' (exact agreement) learned m "
                            f"{m_exact:.2f}, below {EXACT_M_MIN}: fewer than half of the "
                            "matching pairs would agree exactly, so EM learned something "
                            "other than duplicates or the column is mostly typos; check the "
                            "EM rules and the column's standardizer, or train with labels"),
            })
    return out


M_FROM_TEXT = {"em": "EM", "labels": "labels", "mixed": "labels where enough reach a "
               "comparison, EM elsewhere"}


def key_figures(*, records: int, u_pairs: float, lam: float, lambda_from: str,
                m_from: str, sessions: list[dict[str, Any]]) -> list[str]:
    """What `er train` prints about a fit: records, pairs for u, λ, and per EM round its
    iterations and whether it converged."""
    lines = [
        f"trained:  {records:,} records; u from ~{u_pairs:,.0f} random pairs; "
        f"m from {M_FROM_TEXT.get(m_from, m_from)}",
        f"λ:        {lam:.4g} (about 1 in {1 / lam:,.0f} random pairs matches; {lambda_from})"
        if lam > 0 else f"λ:        {lam} ({lambda_from})",
    ]
    for s in sessions:
        lines.append(
            f"EM {s['session']}:     {s['iterations']} iterations, "
            f"{'converged' if s['converged'] else 'did NOT converge'} "
            f"(blocked on {s['blocking_rule']})"
        )
    return lines


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
