"""The overhead of ``adaptsym sweep`` per run, measured side by side in one run.

A trivial chapter (a parameter cell and one cell that records one claim) is executed ``--runs`` times twice:
(a) as a sweep over ``--runs`` seeds on a local pool of one worker (``adaptsym.sweep.run_sweep``: a fresh process
per run, results returned as data and written atomically, the table and the report), and (b) as ``--runs`` bare
``papermill.execute_notebook`` calls in this process.  Printed: both wall times, and the overhead per run,
(a - b) / runs, with its ratio to one bare execution.

    .venv/bin/python benchmarks/sweep.py [--runs 8]
"""

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import jupytext
import nbformat
import papermill

from adaptsym import sweep
from adaptsym.book import PYTHON_KERNEL
from adaptsym.profiles import CHAPTERS

TRIVIAL = '''\
# %% tags=["parameters"]
profile = "quick"
claims_path = None
seed = 0

# %%
from adaptsym.claims import Ledger

Ledger("trivial", profile, dataset="none", path=claims_path).record(
    name="seed is small", paper="none", measured=seed, agrees=seed < 100)
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        source = folder / "trivial.py"
        source.write_text(TRIVIAL)
        chapter = replace(CHAPTERS[0], number=99, slug="trivial", source=str(source),
                          parameters={p: {"seed": 0} for p in ("smoke", "quick", "paper")})
        spec = sweep.parse_sweep({"profile": "smoke", "seeds": list(range(args.runs))}, chapter=chapter)

        start = time.perf_counter()
        counts = sweep.run_sweep(spec, folder / "sweep", workers=1, progress=False)
        swept = time.perf_counter() - start
        assert counts["ok"] == args.runs, counts

        notebook = jupytext.read(source)
        notebook.metadata["kernelspec"] = PYTHON_KERNEL
        nbformat.write(notebook, folder / "trivial.ipynb")
        start = time.perf_counter()
        for seed in range(args.runs):
            papermill.execute_notebook(str(folder / "trivial.ipynb"), str(folder / f"bare-{seed}.ipynb"),
                                       kernel_name=PYTHON_KERNEL["name"], progress_bar=False,
                                       parameters={"profile": "smoke", "seed": seed,
                                                   "claims_path": str(folder / f"bare-{seed}.json")})
        bare = time.perf_counter() - start

    per_run = (swept - bare) / args.runs
    print(f"{args.runs} trivial runs: sweep (1 local worker) {swept:.1f} s, bare papermill {bare:.1f} s")
    print(f"sweep overhead per run {per_run:.2f} s = {per_run / (bare / args.runs):.2f} bare executions "
          f"(a fresh interpreter per run, results as data, atomic writes, table and report)")


if __name__ == "__main__":
    main()
