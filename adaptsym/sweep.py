"""Batch reruns of a chapter over a grid of parameters (``adaptsym sweep``): does a claim hold beyond the book's
settings?

A sweep file (YAML) names a chapter, a profile, parameters given as lists (``grid``: every combination) or as
lists of one length (``zip``: taken together), and ``seeds``.  Every combination is one papermill execution of
the chapter, in its own process: on this machine ``workers`` at a time, or on a Dask distributed cluster
(``scheduler``).  A run executes in a temporary folder of whichever machine runs it and returns its notebook,
claims, wall time, device and status as data, so results come back through Dask, not through a shared path.

Each run's folder under the output ``DIR/runs/<id>/`` holds ``parameters.json`` (written when it starts),
``notebook.ipynb``, ``claims.json`` and, written last and atomically, ``result.json`` with its status, error,
wall time and device.  A run counts as finished only when ``result.json`` says ``ok``: a rerun of the sweep skips
those and redoes failed and interrupted runs (an interrupted run has no ``result.json``).  The sweep then writes
``DIR/sweep.csv`` (one row per run: parameters and every recorded claim's measured value and verdict) and
``DIR/report.md`` (verdict stability per claim, and optionally a plot of a claim against a parameter).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import signal
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from adaptsym.checks import check_choice
from adaptsym.profiles import DEFAULT_PROFILE, PROFILES, Chapter, chapter as find_chapter
from adaptsym.progress import progress_bar
from adaptsym.storage import atomic_write_bytes, atomic_write_json, json_digest

SWEEP_KEYS = ("chapter", "profile", "grid", "zip", "seeds")


class SweepError(ValueError):
    """A sweep file that cannot run; the message names the exact problem."""


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the chapter, the profile, and each run's parameter overrides (``runs``); ``varied`` names
    the parameters that change between runs, in the file's order."""

    chapter: Chapter
    profile: str
    runs: tuple[dict[str, Any], ...]
    varied: tuple[str, ...]

    def run_id(self, overrides: Mapping[str, Any]) -> str:
        """The folder name of a run: 12 hex digits of the hash of the chapter, profile and overrides."""
        return json_digest({"chapter": self.chapter.slug, "profile": self.profile, "parameters": dict(overrides)}, 12)


# --- the sweep file ----------------------------------------------------------------------------------------------

def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file (:func:`parse_sweep`); a YAML error is a :class:`SweepError` too."""
    import yaml

    try:
        spec = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SweepError(f"{path}: cannot read the sweep file: {error}") from None
    try:
        return parse_sweep(spec)
    except SweepError as error:
        raise SweepError(f"{path}: {error}") from None


def parse_sweep(spec: Any, chapter: Chapter | None = None) -> Sweep:
    """Validate a sweep description (the YAML file's mapping) and expand it into runs.

    Keys: ``chapter`` (number or slug; or pass a :class:`Chapter` as ``chapter``), ``profile`` (default ``quick``),
    ``grid`` (name: list, every combination), ``zip`` (name: list, all of one length, taken together), ``seeds``
    (a list of values of the chapter's ``seed`` parameter).  Rejected, with the problem named: other keys, unknown
    chapters, profiles or parameters, empty lists, zip lists of different lengths, a parameter given twice, and
    values papermill cannot pass into a notebook (anything but numbers, strings, booleans, null and lists or
    mappings of them; NaN and infinities included).
    """
    if not isinstance(spec, Mapping):
        raise SweepError(f"a sweep file is a mapping with keys {', '.join(SWEEP_KEYS)}; got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(SWEEP_KEYS))
    if unknown:
        raise SweepError(f"unknown key(s) {', '.join(map(str, unknown))}; valid keys: {', '.join(SWEEP_KEYS)}")
    if chapter is None:
        if "chapter" not in spec:
            raise SweepError("the sweep file names no chapter (key 'chapter')")
        try:
            chapter = find_chapter(spec["chapter"])
        except ValueError as error:
            raise SweepError(str(error)) from None
    profile = spec.get("profile", DEFAULT_PROFILE)
    check_choice(profile, PROFILES, "profile", error=SweepError)
    grid, zipped = _lists(spec, "grid"), _lists(spec, "zip")
    if "seeds" in spec:
        if "seed" in grid or "seed" in zipped:
            raise SweepError("parameter 'seed' is given twice: in 'seeds' and in 'grid' or 'zip'")
        grid["seed"] = _list("seeds", spec["seeds"])
    twice = sorted(set(grid) & set(zipped))
    if twice:
        raise SweepError(f"parameter(s) {', '.join(twice)} given in both 'grid' and 'zip'")
    valid = chapter.parameters[profile]
    unknown = [name for name in [*grid, *zipped] if name not in valid]
    if unknown:
        raise SweepError(f"unknown parameter(s) {', '.join(unknown)} for chapter {chapter.slug}; "
                         f"valid parameters: {', '.join(valid)}")
    lengths = {name: len(values) for name, values in zipped.items()}
    if len(set(lengths.values())) > 1:
        raise SweepError("zip lists must have one length; got " + ", ".join(f"{n}: {k}" for n, k in lengths.items()))
    for name, values in [*grid.items(), *zipped.items()]:
        for value in values:
            if not _passable(value):
                raise SweepError(f"parameter {name!r}: value {value!r} cannot be passed into a notebook by papermill "
                                 "(use numbers, strings, booleans, null, or lists and mappings of them)")
    rows = list(zip(*zipped.values())) if zipped else [()]
    runs = tuple({**dict(zip(grid, combination)), **dict(zip(zipped, row))}
                 for combination in itertools.product(*grid.values()) for row in rows)
    return Sweep(chapter, profile, runs, tuple([*grid, *zipped]))


def _lists(spec: Mapping, key: str) -> dict[str, list]:
    section = spec.get(key) or {}
    if not isinstance(section, Mapping):
        raise SweepError(f"'{key}' must map parameter names to lists of values; got {type(section).__name__}")
    return {str(name): _list(f"{key}.{name}", values) for name, values in section.items()}


def _list(where: str, values: Any) -> list:
    if not isinstance(values, list):
        raise SweepError(f"'{where}' must be a list of values; got {values!r}")
    if not values:
        raise SweepError(f"'{where}' is an empty list: the sweep would have no runs")
    return values


def _passable(value: Any) -> bool:
    """Whether papermill can write ``value`` into a notebook's parameter cell and read it back unchanged."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_passable(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _passable(v) for k, v in value.items())
    return False


# --- one run -------------------------------------------------------------------------------------------------------

def execute_run(chapter: Chapter, profile: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Execute one run in a temporary folder and return what it produced, as data: ``status`` (``ok`` or
    ``failed``), ``error``, ``seconds``, ``device``, ``notebook`` (the executed notebook's bytes, or None) and
    ``claims`` (the recorded claims, a list).  Runs on whichever machine calls it (a pool or a Dask worker)."""
    from adaptsym.book import execute_chapter
    from adaptsym.device import resolve_device

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="adaptsym-sweep-") as folder:
        try:
            execute_chapter(chapter, profile, dict(overrides), out_dir=Path(folder), progress=False)
            status, error = "ok", None
        except Exception as failure:  # any failure of the run is its result; the sweep goes on
            status, error = "failed", f"{type(failure).__name__}: {failure}"
        notebook = next(Path(folder).glob("*.ipynb"), None)
        claims = next(Path(folder).glob("*.claims.json"), None)
        return dict(status=status, error=error, seconds=time.perf_counter() - start,
                    device=f"{resolve_device('auto')} on {socket.gethostname()}",
                    notebook=notebook.read_bytes() if notebook else None,
                    claims=json.loads(claims.read_text()) if claims else [])


def store_result(folder: Path, result: Mapping[str, Any]) -> None:
    """Write a run's notebook and claims, then its ``result.json`` last: a folder without it is unfinished."""
    if result["notebook"] is not None:
        atomic_write_bytes(folder / "notebook.ipynb", result["notebook"])
    atomic_write_json(folder / "claims.json", result["claims"])
    atomic_write_json(folder / "result.json", {k: result[k] for k in ("status", "error", "seconds", "device")})


def finished(folder: Path) -> bool:
    """Whether the run in ``folder`` finished successfully (its ``result.json`` says ``ok``)."""
    try:
        return json.loads((folder / "result.json").read_text())["status"] == "ok"
    except (OSError, ValueError, KeyError):
        return False


# --- the sweep -----------------------------------------------------------------------------------------------------

def run_sweep(sweep: Sweep, out: str | Path, *, workers: int = 1, scheduler: str | None = None,
              plot: Mapping[str, str] | None = None, progress: bool = True) -> dict[str, int]:
    """Run every unfinished run of ``sweep`` into ``out`` and write the table and report (:func:`write_table`,
    :func:`write_report` with ``plot``).  Locally: a pool of ``workers`` processes; with ``scheduler``
    (``tcp://host:port``): on that Dask cluster.  A failed run is recorded and the others go on; Ctrl-C cancels
    what has not finished and leaves no ``result.json`` for it.  Returns counts: ``skipped`` (already finished),
    ``ok``, ``failed``."""
    out = Path(out)
    todo = []
    for overrides in sweep.runs:
        folder = out / "runs" / sweep.run_id(overrides)
        if not finished(folder):
            atomic_write_json(folder / "parameters.json", {"chapter": sweep.chapter.slug, "profile": sweep.profile,
                                                           "parameters": overrides})
            todo.append((folder, overrides))
    counts = Counter(skipped=len(sweep.runs) - len(todo), ok=0, failed=0)
    bar = progress_bar(total=len(todo), desc=f"sweep {sweep.chapter.slug}", disable=not progress)
    with _executor(workers, scheduler) as submit:
        pending = {submit(execute_run, sweep.chapter, sweep.profile, overrides): folder for folder, overrides in todo}
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                store_result(pending.pop(future), result)
                counts[result["status"]] += 1
                bar.update()
            running = len(pending) if scheduler else min(len(pending), workers)  # Dask: submitted, unfinished
            bar.set_postfix(ok=counts["ok"], failed=counts["failed"], running=running)
    bar.close()
    write_table(sweep, out)
    write_report(sweep, out, plot)
    return dict(counts)


class _executor:
    """``with _executor(workers, scheduler) as submit``: ``submit(fn, *args)`` returns a concurrent future, from a
    local pool of processes (a fresh one per run, the machine's cores shared among the workers) or from a Dask
    client.  Leaving the block normally waits for the
    pool; leaving it by an exception (Ctrl-C included) terminates the pool's processes or cancels the cluster's
    tasks, so no run goes on behind the user's back."""

    def __init__(self, workers: int, scheduler: str | None):
        if workers < 1:
            raise SweepError(f"workers must be at least 1; got {workers}")
        self.workers, self.scheduler = workers, scheduler

    def __enter__(self):
        if self.scheduler is None:
            # spawn, one run per process: every run starts from a fresh interpreter, whatever the parent holds
            threads = max(1, (os.cpu_count() or 1) // self.workers)
            self.pool = get_context("spawn").Pool(self.workers, initializer=_share_cores, initargs=(threads,),
                                                  maxtasksperchild=1)
            return self._submit_local
        from distributed import Client

        self.client = Client(self.scheduler, timeout="30s")
        self.futures: list = []
        return self._submit_dask

    def _submit_local(self, fn, *args) -> Future:
        future: Future = Future()
        self.pool.apply_async(fn, args, callback=future.set_result,
                              error_callback=lambda error: future.set_result(_lost(error)))
        return future

    def _submit_dask(self, fn, *args) -> Future:
        task = self.client.submit(fn, *args, pure=False)
        self.futures.append(task)
        future: Future = Future()

        def done(finished):
            try:
                future.set_result(finished.result())
            except BaseException as error:  # a cancelled task or a lost worker: the run's failure
                future.set_result(_lost(error))

        task.add_done_callback(done)
        return future

    def __exit__(self, kind, error, trace):
        if self.scheduler is not None:
            self.client.cancel(self.futures)
            self.client.close()
        elif kind is None:
            self.pool.close()
            self.pool.join()
        else:
            self.pool.terminate()
        return False


def _share_cores(threads: int) -> None:
    """Set up a pool worker: its runs (and the kernels they start, which inherit the environment) get ``threads``
    threads each, unless the user set ``OMP_NUM_THREADS`` (workers that each take every core slow one another
    down); and the SIGTERM of ``Pool.terminate`` interrupts the run (:func:`interrupt_on_sigterm`), so that its
    kernel is shut down and its temporary folder removed rather than left behind."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
    interrupt_on_sigterm()


def interrupt_on_sigterm() -> None:
    """Make SIGTERM (a scheduler's cancel, ``kill``, ``Pool.terminate``) raise KeyboardInterrupt, like Ctrl-C, so
    that cleanup runs; and restore Ctrl-C where a non-interactive shell started the process with it ignored."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _lost(error: BaseException) -> dict[str, Any]:
    """The result of a run whose process or worker failed outside the chapter."""
    return dict(status="failed", error=f"{type(error).__name__}: {error}", seconds=math.nan, device="unknown",
                notebook=None, claims=[])


# --- what the sweep found ------------------------------------------------------------------------------------------

def collect(sweep: Sweep, out: str | Path) -> list[dict[str, Any]]:
    """Every run of ``sweep`` found under ``out``: its id, parameters, result (status, error, seconds, device; None
    if it never finished) and claims (by name)."""
    rows = []
    for overrides in sweep.runs:
        folder = Path(out) / "runs" / sweep.run_id(overrides)
        result = json.loads((folder / "result.json").read_text()) if (folder / "result.json").is_file() else None
        claims = json.loads((folder / "claims.json").read_text()) if (folder / "claims.json").is_file() else []
        rows.append(dict(run=folder.name, parameters=overrides, result=result,
                         claims={c["name"]: c for c in claims}))
    return rows


def claim_names(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The names of the claims recorded by any run, in order of first appearance."""
    return list(dict.fromkeys(name for row in rows for name in row["claims"]))


def write_table(sweep: Sweep, out: str | Path) -> Path:
    """``out/sweep.csv``: one row per run (id, status, seconds, device, the varied parameters) with every claim's
    measured value and verdict as two columns each; lists and mappings as JSON."""
    rows = collect(sweep, out)
    names = claim_names(rows)
    header = ["run", "status", "seconds", "device", *sweep.varied,
              *itertools.chain.from_iterable((f"{n} [measured]", f"{n} [verdict]") for n in names)]
    lines = []
    for row in rows:
        result = row["result"] or dict(status="unfinished", seconds="", device="")
        cells = [row["run"], result["status"], result["seconds"], result["device"],
                 *(_cell(row["parameters"].get(p)) for p in sweep.varied)]
        for name in names:
            claim = row["claims"].get(name)
            cells += [_cell(claim["measured"]) if claim else "", claim["verdict"] if claim else ""]
        lines.append(cells)
    text = io.StringIO()
    csv.writer(text).writerows([header, *lines])
    return atomic_write_bytes(Path(out) / "sweep.csv", text.getvalue().encode())


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def verdict_stability(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per claim, over the runs that finished: how many agree, disagree and are inconclusive, and whether the
    verdict is the same in every run (``stable``)."""
    ok = [row for row in rows if row["result"] and row["result"]["status"] == "ok"]
    found = []
    for name in claim_names(ok):
        verdicts = Counter(row["claims"][name]["verdict"] for row in ok if name in row["claims"])
        found.append(dict(claim=name, runs=sum(verdicts.values()), agrees=verdicts["agrees"],
                          disagrees=verdicts["disagrees"], inconclusive=verdicts["inconclusive"],
                          stable=len(verdicts) == 1))
    return found


def write_report(sweep: Sweep, out: str | Path, plot: Mapping[str, str] | None = None) -> Path:
    """``out/report.md``: the runs' statuses, the verdict stability of every claim, failed runs with their errors,
    and with ``plot`` = {"claim": NAME, "x": PARAM} a figure ``out/plot.png`` of the claim's measured value (one
    marker per run, coloured by verdict) against the parameter.  NAME may be any unique part of a claim's name."""
    from adaptsym.tables import markdown_rows

    rows = collect(sweep, out)
    statuses = Counter((row["result"] or {"status": "unfinished"})["status"] for row in rows)
    lines = [f"# Sweep of chapter {sweep.chapter.number} ({sweep.chapter.slug}), profile {sweep.profile}", "",
             f"{len(rows)} runs over {', '.join(sweep.varied) or 'no parameter'}: "
             + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) + ".", "", "## Verdict stability", ""]
    lines += markdown_rows(["claim", "runs", "agrees", "disagrees", "inconclusive", "stable"],
                           [[s["claim"], s["runs"], s["agrees"], s["disagrees"], s["inconclusive"],
                             "yes" if s["stable"] else "**no**"] for s in verdict_stability(rows)])
    failed = [row for row in rows if row["result"] and row["result"]["status"] == "failed"]
    if failed:
        lines += ["", "## Failed runs", ""] + markdown_rows(
            ["run", "parameters", "error"], [[r["run"], json.dumps(r["parameters"]), r["result"]["error"]]
                                             for r in failed])
    problem = None
    if plot:
        try:
            claim = _plot_claim(plot, rows, Path(out) / "plot.png")
            lines += ["", f"## {claim} against {plot['x']}", "", "![claim against parameter](plot.png)"]
        except SweepError as error:
            problem = error
            lines += ["", f"No plot: {error}"]
    path = Path(out) / "report.md"
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    if problem:
        raise problem  # after the report is written: the runs and the table are kept
    return path


def parse_plot(text: str, sweep: Sweep) -> dict[str, str]:
    """``claim=NAME,x=PARAM`` into a dict; PARAM must be a varied parameter of the sweep."""
    fields = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    if set(fields) != {"claim", "x"}:
        raise SweepError(f"--plot takes claim=NAME,x=PARAM; got {text!r}")
    if fields["x"] not in sweep.varied:
        raise SweepError(f"--plot: {fields['x']!r} is not a varied parameter; varied: {', '.join(sweep.varied)}")
    return fields


def _plot_claim(plot: Mapping[str, str], rows: Sequence[Mapping[str, Any]], path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in claim_names(rows) if plot["claim"] == n] or [n for n in claim_names(rows) if plot["claim"] in n]
    if len(names) != 1:
        raise SweepError(f"--plot: claim {plot['claim']!r} matches {len(names)} recorded claims"
                         + (f": {'; '.join(names)}" if names else ""))
    colours = {"agrees": "tab:green", "disagrees": "tab:red", "inconclusive": "tab:grey"}
    fig, ax = plt.subplots(figsize=(5, 3.4), constrained_layout=True)
    for verdict, colour in colours.items():
        points = [(row["parameters"][plot["x"]], row["claims"][names[0]]["measured"]) for row in rows
                  if names[0] in row["claims"] and row["claims"][names[0]]["verdict"] == verdict
                  and isinstance(row["claims"][names[0]]["measured"], (int, float))]
        if points:
            ax.scatter(*zip(*points), color=colour, label=verdict)
    ax.set(xlabel=plot["x"], ylabel="measured", title=names[0][:70])
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return names[0]
