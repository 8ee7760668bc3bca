"""FSRS fitted to each student vs the defaults, on simulated students whose true memory
follows FSRS with their own parameters (tests/support/fsrs_students.py).

Each student adds 8-14 cards a day for 45-70 days and studies what the app (FSRS defaults)
schedules; recall is drawn from the retrievability of the student's true parameters. The
optimizer sees the first 80% of the student's reviews by time, as the optimize job does;
every figure is on the last 20%: log loss and RMSE(bins) of predicted retrievability vs
recall, pooled over students (weighted by their held-out reviews, like srs-benchmark).

    python -m bench.fsrs_fit_bench                   # 1,000 students (about 3 s CPU each)
    python -m bench.fsrs_fit_bench --students 60     # what fits in ~4 minutes of CPU
    python -m bench.fsrs_fit_bench --mini-batch 512  # py-fsrs's own mini-batch size
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from fsrs import ReviewLog
from fsrs.scheduler import DEFAULT_PARAMETERS

from core.flashcards import fitting, jobs
from tests.support.fsrs_students import individual_parameters, simulate

QUICK_ARGS = ["--students", "10"]
BUDGET_SECONDS = 4000

# srs-benchmark (open-spaced-repetition), FSRS-6 on ~10k Anki collections: log loss, RMSE(bins).
REFERENCE = {"FSRS-6 fitted": (0.321, 0.046), "FSRS-6 defaults": (0.339, 0.072)}


@dataclass
class Tally:
    """Held-out predictions pooled over students."""

    scored: list[fitting.Prediction] = field(default_factory=list)
    rmse_weighted: float = 0.0

    def add(self, predictions: Sequence[fitting.Prediction]) -> None:
        self.scored.extend(predictions)
        self.rmse_weighted += fitting.rmse_bins(predictions) * len(predictions)

    def figures(self) -> tuple[float, float]:
        return fitting.log_loss(self.scored), self.rmse_weighted / len(self.scored)


def fit_with(mini_batch: int) -> fitting.Fitter:
    from fsrs import optimizer

    optimizer.mini_batch_size = mini_batch

    def fit(train: Sequence[ReviewLog]) -> list[float]:
        return [float(p) for p in optimizer.Optimizer(list(train)).compute_optimal_parameters()]

    return fit


def run(students: int, mini_batch: int, seed: int) -> None:
    rng = random.Random(seed)
    fit = fit_with(mini_batch)
    tallies = {name: Tally() for name in ("defaults", "fitted", "kept", "true")}
    kept = reviews = 0
    started = time.process_time()
    for index in range(students):
        truth = individual_parameters(rng)
        days, per_day = rng.randrange(45, 71), rng.randrange(8, 15)
        logs = fitting.by_time(simulate(truth, days=days, new_per_day=per_day, seed=index))
        cut = fitting.split_index(len(logs))
        fitted = [float(p) for p in fit(logs[:cut])]
        held_out = {
            "defaults": fitting.predictions(DEFAULT_PARAMETERS, logs, cut),
            "fitted": fitting.predictions(fitted, logs, cut),
            "true": fitting.predictions(truth, logs, cut),
        }
        better = fitting.log_loss(held_out["fitted"]) < fitting.log_loss(held_out["defaults"])
        held_out["kept"] = held_out["fitted" if better else "defaults"]
        for name, predictions in held_out.items():
            tallies[name].add(predictions)
        kept += better
        reviews += len(logs)
    cpu = time.process_time() - started
    report(students, reviews, kept, mini_batch, cpu, tallies)


def report(
    students: int, reviews: int, kept: int, mini_batch: int, cpu: float, tallies: dict[str, Tally]
) -> None:
    held_out = len(tallies["defaults"].scored)
    print(
        f"{students} simulated students, {reviews:,} reviews ({reviews // students:,} each), "
        f"{held_out:,} held-out reviews scored; mini-batch {mini_batch}; {cpu:.0f} s CPU "
        f"({cpu / students:.1f} s a student)"
    )
    print(f"{'parameters':<42}{'log loss':>10}{'RMSE(bins)':>12}")
    rows = {
        "defaults (this bench)": tallies["defaults"].figures(),
        "fitted to the first 80% (this bench)": tallies["fitted"].figures(),
        "job's rule: fit if better (this bench)": tallies["kept"].figures(),
        "the students' true parameters": tallies["true"].figures(),
    }
    for name, (loss, rmse) in rows.items():
        print(f"{name:<42}{loss:>10.4f}{rmse:>12.4f}")
    for name, (loss, rmse) in REFERENCE.items():
        print(f"{name + ' (srs-benchmark)':<42}{loss:>10.3f}{rmse:>12.3f}")
    print(f"fits kept by the job's rule: {kept}/{students}")
    print(
        "The job's rule picks on the same held-out reviews it is scored on here, so its row is "
        "a little optimistic; the fitted row is not."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--mini-batch", type=int, default=jobs.FIT_MINI_BATCH)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    run(args.students, args.mini_batch, args.seed)


if __name__ == "__main__":
    main()
