"""FSRS fitted to each student vs the defaults, on simulated students whose true memory
follows FSRS with their own parameters (tests/support/fsrs_students.py).

Each student adds 8-14 cards a day for 45-70 days and studies what the app (FSRS defaults)
schedules; recall is drawn from the retrievability of the student's true parameters. The
optimizer sees the first 80% of the student's reviews by time, as the optimize job does;
every figure is on the last 20%: log loss and RMSE(bins) of predicted retrievability vs
recall, pooled over students (weighted by their held-out reviews, like srs-benchmark).
Students are drawn up front from the seed, so `--processes N` gives the figures of the
serial run; running totals are printed every `--every` students.

    python -m bench.fsrs_fit_bench                   # 1,000 students (about 3 s CPU each)
    python -m bench.fsrs_fit_bench --processes 2     # the same figures on two cores
    python -m bench.fsrs_fit_bench --students 60     # what fits in ~4 minutes of CPU
    python -m bench.fsrs_fit_bench --mini-batch 512  # py-fsrs's own mini-batch size
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from fsrs import ReviewLog
from fsrs.scheduler import DEFAULT_PARAMETERS

from core.flashcards import fitting, jobs
from tests.support.fsrs_students import individual_parameters, simulate

QUICK_ARGS = ["--students", "10"]
BUDGET_SECONDS = 4000

# srs-benchmark (open-spaced-repetition), FSRS-6 on ~10k Anki collections: log loss, RMSE(bins).
REFERENCE = {"FSRS-6 fitted": (0.321, 0.046), "FSRS-6 defaults": (0.339, 0.072)}
NAMES = ("defaults", "fitted", "kept", "true")


@dataclass(frozen=True)
class Student:
    """One simulated student: their true parameters and how they study."""

    index: int
    truth: tuple[float, ...]
    days: int
    per_day: int


@dataclass(frozen=True)
class Score:
    """One set of parameters on one student's held-out reviews."""

    loss_sum: float
    rmse_weighted: float
    count: int


@dataclass(frozen=True)
class StudentResult:
    reviews: int
    fitted: tuple[float, ...]
    kept: bool
    scores: dict[str, Score]
    cpu: float = field(compare=False)


@dataclass
class Tally:
    """Held-out scores pooled over students (log loss over all their reviews, RMSE(bins)
    weighted by each student's held-out reviews)."""

    loss_sum: float = 0.0
    rmse_weighted: float = 0.0
    count: int = 0

    def add(self, score: Score) -> None:
        self.loss_sum += score.loss_sum
        self.rmse_weighted += score.rmse_weighted
        self.count += score.count

    def figures(self) -> tuple[float, float]:
        return self.loss_sum / self.count, self.rmse_weighted / self.count


@dataclass
class Totals:
    students: int = 0
    reviews: int = 0
    kept: int = 0
    cpu: float = 0.0
    tallies: dict[str, Tally] = field(default_factory=lambda: {n: Tally() for n in NAMES})

    def add(self, result: StudentResult) -> None:
        self.students += 1
        self.reviews += result.reviews
        self.kept += result.kept
        self.cpu += result.cpu
        for name, score in result.scores.items():
            self.tallies[name].add(score)


def draw_students(
    count: int, seed: int, days: tuple[int, int] = (45, 71), per_day: tuple[int, int] = (8, 15)
) -> list[Student]:
    """The students of a run, drawn in order from `seed` (a student's draws never depend on
    which process scores them)."""
    rng = random.Random(seed)
    drawn = []
    for index in range(count):
        truth = tuple(individual_parameters(rng))
        drawn.append(Student(index, truth, rng.randrange(*days), rng.randrange(*per_day)))
    return drawn


def prepare(mini_batch: int) -> None:
    """Set up a process to fit: py-fsrs's module-level mini-batch size, and one torch
    thread (the fits are many tiny tensor operations; processes are the parallelism)."""
    import torch
    from fsrs import optimizer

    optimizer.mini_batch_size = mini_batch
    torch.set_num_threads(1)


def fit(train: Sequence[ReviewLog]) -> list[float]:
    from fsrs import optimizer

    return [float(p) for p in optimizer.Optimizer(list(train)).compute_optimal_parameters()]


def score(student: Student) -> StudentResult:
    """Fit one student's first 80% and score every set of parameters on the rest."""
    started = time.process_time()
    logs = fitting.by_time(
        simulate(student.truth, days=student.days, new_per_day=student.per_day, seed=student.index)
    )
    cut = fitting.split_index(len(logs))
    fitted = tuple(fit(logs[:cut]))
    held_out = {
        "defaults": fitting.predictions(DEFAULT_PARAMETERS, logs, cut),
        "fitted": fitting.predictions(fitted, logs, cut),
        "true": fitting.predictions(student.truth, logs, cut),
    }
    better = fitting.log_loss(held_out["fitted"]) < fitting.log_loss(held_out["defaults"])
    held_out["kept"] = held_out["fitted" if better else "defaults"]
    scores = {name: _score(predictions) for name, predictions in held_out.items()}
    return StudentResult(len(logs), fitted, better, scores, time.process_time() - started)


def _score(predictions: Sequence[fitting.Prediction]) -> Score:
    n = len(predictions)
    if not n:
        return Score(0.0, 0.0, 0)
    return Score(fitting.log_loss(predictions) * n, fitting.rmse_bins(predictions) * n, n)


def results(
    students: Sequence[Student], mini_batch: int, processes: int
) -> Iterator[StudentResult]:
    """Each student's result, in the students' order, from `processes` processes."""
    if processes <= 1:
        prepare(mini_batch)
        yield from map(score, students)
        return
    # spawn, not fork: a forked child of a process that has run torch can hang.
    with ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=prepare,
        initargs=(mini_batch,),
    ) as pool:
        yield from pool.map(score, students, chunksize=1)


def run(students: int, mini_batch: int, seed: int, processes: int = 1, every: int = 100) -> Totals:
    started = time.monotonic()
    totals = Totals()
    for result in results(draw_students(students, seed), mini_batch, processes):
        totals.add(result)
        if every and totals.students % every == 0 and totals.students < students:
            running(totals, time.monotonic() - started)
    report(totals, mini_batch, processes, time.monotonic() - started)
    return totals


def running(totals: Totals, wall: float) -> None:
    figures = "; ".join(
        f"{name} {loss:.4f} / {rmse:.4f}"
        for name, (loss, rmse) in ((n, totals.tallies[n].figures()) for n in NAMES)
    )
    print(
        f"after {totals.students} students ({wall:.0f} s): {figures}; "
        f"fits kept {totals.kept}/{totals.students}",
        flush=True,
    )


def report(totals: Totals, mini_batch: int, processes: int, wall: float) -> None:
    students, reviews, cpu = totals.students, totals.reviews, totals.cpu
    held_out = totals.tallies["defaults"].count
    print(
        f"{students} simulated students, {reviews:,} reviews ({reviews // students:,} each), "
        f"{held_out:,} held-out reviews scored; mini-batch {mini_batch}; {cpu:.0f} s CPU "
        f"({cpu / students:.1f} s a student), {wall:.0f} s on {processes} process(es)"
    )
    print(f"{'parameters':<42}{'log loss':>10}{'RMSE(bins)':>12}")
    rows = {
        "defaults (this bench)": totals.tallies["defaults"].figures(),
        "fitted to the first 80% (this bench)": totals.tallies["fitted"].figures(),
        "job's rule: fit if better (this bench)": totals.tallies["kept"].figures(),
        "the students' true parameters": totals.tallies["true"].figures(),
    }
    for name, (loss, rmse) in rows.items():
        print(f"{name:<42}{loss:>10.4f}{rmse:>12.4f}")
    for name, (loss, rmse) in REFERENCE.items():
        print(f"{name + ' (srs-benchmark)':<42}{loss:>10.3f}{rmse:>12.3f}")
    print(f"fits kept by the job's rule: {totals.kept}/{students}")
    print(
        "The job's rule picks on the same held-out reviews it is scored on here, so its row is "
        "a little optimistic; the fitted row is not.",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--mini-batch", type=int, default=jobs.FIT_MINI_BATCH)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--processes", type=int, default=1, help="fit students in N processes")
    parser.add_argument("--every", type=int, default=100, help="running totals every N students")
    args = parser.parse_args()
    if args.students < 1 or args.processes < 1:
        parser.error("--students and --processes take a number of 1 or more")
    run(args.students, args.mini_batch, args.seed, args.processes, args.every)


if __name__ == "__main__":
    main()
