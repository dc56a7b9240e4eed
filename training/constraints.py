"""Parameters a domain expert would sign: constraints applied to a fitted model.

Unsupervised EM finds the parameters that best explain the blocked pairs as two classes,
and on customer data the "match" class it finds is partly households, namesakes, a
salesperson's stores and a chain's branches: pairs that look alike for reasons other than
being one customer. What it learns then contradicts what the levels mean (issue 15: a
phone "one digit off" weighing more than "same number", an address "same district"
weighing more than "most characters shared"). After EM, and after m is estimated from
labels, `constrain` enforces what the level order says:

1. **Monotone levels.** Every comparison builder (`resolution.model.settings`) lists its
   levels most alike first. Within a comparison, a level never weighs more than a level
   listed before it. Violations are pooled (pool adjacent violators): the pooled levels
   share the weight of their combined m over their combined u; each keeps its u and its m
   is rescaled, so the comparison's m still sums as before. The null level and levels
   whose m is a fixed domain prior keep their own weights and do not take part.
2. **No weight from a filled-in u.** A level no randomly sampled pair fell into has its u
   set to "half a sampled pair" (`fill_unseen_u`): an upper bound on how rare it is among
   non-matches, not an estimate, so a weight computed from it means nothing. Such a level
   is capped at the weight of the nearest level before it (its u raised to match), i.e.
   merged into that neighbour's evidence, before the pooling.

3. **Disagreement is never impossible.** On data where EM's "match" class never
   disagrees on a field (a generator that gives each customer one mailbox), it drives the
   m of the comparison's last level ("different") towards zero, and one customer with two
   mailboxes or a changed number is then ruled out by tens of bits. A customer's contact
   details do change and multiply, so the last level's m is at least
   `DISAGREE_M_FLOOR` (1 pair in 100), the other levels' m scaled to keep the sum.

4. **No weight from a default.** A level EM never trained (no m: no blocked pair fell in
   it, or every EM round blocked on its columns) would be scored with Splink's default m
   for its position, a weight nobody estimated. It weighs as the nearest trained level
   after it (less similar), so it never gives more evidence than a level below it.

5. **Unranked levels.** A level that is not a degree of similarity on its comparison's
   scale (`resolution.model.settings.UNRANKED_LEVELS`: "one gives only the surname, and
   it agrees", 罗先生 and 罗明) takes no part in 1 and 2: ranking it against "half the
   characters shared" would pool two different kinds of evidence. It never weighs more
   than the comparison's most alike level.

Domain priors EM may not overturn without labels (different valid USCCs or ID cards, two
different branches, one person and one company) are fixed m values set where the
levels are built. Each adjustment is returned as a sentence for the run's warnings and
MLflow (`constraints.json`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from resolution.model.settings import UNRANKED_LEVELS


@dataclass(frozen=True)
class Adjustment:
    comparison: str
    levels: tuple[str, ...]
    reason: str  # "pooled" | "filled u capped" | "disagreement floor" | "untrained"
    #              | "unranked capped"
    weights_before: tuple[float, ...]
    weight_after: float

    def sentence(self) -> str:
        before = ", ".join(f"{lv} {w:+.1f}" for lv, w in zip(self.levels, self.weights_before))
        if self.reason == "disagreement floor":
            return (f"{self.comparison}: level {before} bits had an m below "
                    f"{DISAGREE_M_FLOOR:g}; raised to it ({self.weight_after:+.1f} bits)")
        if self.reason == "untrained":
            return (f"{self.comparison}: level {self.levels[0]} was never trained (no m); it "
                    f"weighs as the next less similar trained level, {self.weight_after:+.1f} "
                    f"bits, not as Splink's default m")
        if self.reason == "unranked capped":
            return (f"{self.comparison}: level {before} bits weighed more than the "
                    f"comparison's most alike level; capped at it ({self.weight_after:+.1f} "
                    f"bits)")
        if self.reason == "filled u capped":
            return (f"{self.comparison}: level {before} bits had its u filled in (no sampled "
                    f"pair fell in it); weight capped at the level before it, "
                    f"{self.weight_after:+.1f} bits")
        return (f"{self.comparison}: levels {before} bits were not in the order of their "
                f"meaning; pooled to {self.weight_after:+.1f} bits")


DISAGREE_M_FLOOR = 0.01


def _weight(m: float, u: float) -> float:
    return math.log2(m / u)


def _trainable(level: dict[str, Any]) -> bool:
    return (not level.get("is_null_level") and not level.get("fix_m_probability")
            and level.get("label_for_charts") not in UNRANKED_LEVELS
            and level.get("m_probability") is not None and level.get("u_probability") is not None
            and level["m_probability"] > 0 and level["u_probability"] > 0)


def constrain(settings: dict[str, Any], filled_u: set[str] | None = None
              ) -> tuple[dict[str, Any], list[Adjustment]]:
    """Return `settings` with monotone level weights and no filled-in u weight, and the
    adjustments made. `filled_u` holds the `comparison: level label` names whose u was
    filled in (as `fill_unseen_u` returns them)."""
    filled_u = filled_u or set()
    out = {**settings, "comparisons": []}
    adjustments: list[Adjustment] = []
    for comp in settings.get("comparisons", []):
        name = comp.get("output_column_name", "?")
        levels = [dict(lv) for lv in comp["comparison_levels"]]
        chain = [i for i, lv in enumerate(levels) if _trainable(lv)]
        # 3. the last level (disagreement) is never ruled out
        if chain and levels[chain[-1]]["sql_condition"].strip().upper() == "ELSE":
            last = levels[chain[-1]]
            if last["m_probability"] < DISAGREE_M_FLOOR:
                w = _weight(last["m_probability"], last["u_probability"])
                rest = sum(levels[i]["m_probability"] for i in chain[:-1])
                scale = (rest - (DISAGREE_M_FLOOR - last["m_probability"])) / rest if rest else 1
                for i in chain[:-1]:
                    levels[i]["m_probability"] *= scale
                last["m_probability"] = DISAGREE_M_FLOOR
                adjustments.append(Adjustment(name, (last.get("label_for_charts", "?"),),
                                              "disagreement floor", (w,),
                                              _weight(DISAGREE_M_FLOOR, last["u_probability"])))
        # 2. a filled-in u never makes a level weigh more than the level before it
        for k, i in enumerate(chain[1:], start=1):
            lv = levels[i]
            if f"{name}: {lv.get('label_for_charts')}" not in filled_u:
                continue
            prev = levels[chain[k - 1]]
            cap = _weight(prev["m_probability"], prev["u_probability"])
            w = _weight(lv["m_probability"], lv["u_probability"])
            if w > cap:
                lv["u_probability"] = lv["m_probability"] / 2 ** cap
                adjustments.append(Adjustment(name, (lv.get("label_for_charts", "?"),),
                                              "filled u capped", (w,), cap))
        # 1. pool adjacent violators so weights never increase down the chain
        blocks: list[list[int]] = []
        for i in chain:
            blocks.append([i])
            while len(blocks) > 1 and _block_ratio(levels, blocks[-2]) < _block_ratio(
                    levels, blocks[-1]) * (1 - 1e-9):
                last = blocks.pop()
                blocks[-1].extend(last)
        for block in blocks:
            if len(block) < 2:
                continue
            ratio = _block_ratio(levels, block)
            before = tuple(_weight(levels[i]["m_probability"], levels[i]["u_probability"])
                           for i in block)
            for i in block:
                levels[i]["m_probability"] = levels[i]["u_probability"] * ratio
            adjustments.append(Adjustment(
                name, tuple(levels[i].get("label_for_charts", "?") for i in block), "pooled",
                before, math.log2(ratio)))
        # 5. an unranked level (UNRANKED_LEVELS) takes no part in the order, but never
        # weighs more than the comparison's most alike level
        if chain:
            top = levels[chain[0]]
            cap = _weight(top["m_probability"], top["u_probability"])
            for lv in levels:
                if (lv.get("label_for_charts") in UNRANKED_LEVELS and lv.get("m_probability")
                        and lv.get("u_probability")):
                    w = _weight(lv["m_probability"], lv["u_probability"])
                    if w > cap:
                        lv["m_probability"] = lv["u_probability"] * 2 ** cap
                        adjustments.append(Adjustment(
                            name, (lv.get("label_for_charts", "?"),), "unranked capped",
                            (w,), cap))
        # 4. a level EM never trained (no m) weighs as the nearest trained level after it
        for i, lv in enumerate(levels):
            if (lv.get("is_null_level") or lv.get("fix_m_probability")
                    or lv.get("m_probability") is not None or not lv.get("u_probability")):
                continue
            after = next((levels[j] for j in chain if j > i), None)
            w = _weight(after["m_probability"], after["u_probability"]) if after else 0.0
            lv["m_probability"] = min(lv["u_probability"] * 2 ** w, 1.0)
            adjustments.append(Adjustment(name, (lv.get("label_for_charts", "?"),),
                                          "untrained", (math.nan,), w))
        out["comparisons"].append({**comp, "comparison_levels": levels})
    return out, adjustments


def _block_ratio(levels: list[dict[str, Any]], block: list[int]) -> float:
    m = sum(levels[i]["m_probability"] for i in block)
    u = sum(levels[i]["u_probability"] for i in block)
    return m / u


def release_priors(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings with every fixed m released: for estimating m from labels, which may
    overturn a domain prior where EM may not."""
    return {**settings, "comparisons": [
        {**comp, "comparison_levels": [
            {k: v for k, v in lv.items() if k != "fix_m_probability"}
            for lv in comp["comparison_levels"]]}
        for comp in settings.get("comparisons", [])]}
