"""``adaptsym sweep``: sweep files validated before anything runs, runs on a local pool and on a Dask cluster,
reruns that skip finished runs and redo failed or interrupted ones, and the run cache's lock."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from adaptsym import cli, sweep
from adaptsym.profiles import CHAPTERS, REPO_ROOT
from adaptsym.sweep import SweepError, parse_sweep

TRIVIAL = '''\
# %% tags=["parameters"]
profile = "quick"
claims_path = None
x = 1.0
seed = 0
wait_for = ""

# %%
import os
import time
from adaptsym.claims import Ledger

if wait_for:
    open(wait_for + ".waiting", "w").close()
while wait_for and not os.path.exists(wait_for):
    time.sleep(0.1)
if x < 0:
    raise ValueError(f"x = {x} is negative")
ledger = Ledger("trivial", profile, dataset="none", path=claims_path)
ledger.record(name="x times seed is small", paper="not in the paper", measured=x * seed, agrees=x * seed < 2,
              kind="ours", criterion="x * seed < 2")
'''


@pytest.fixture
def trivial(tmp_path):
    """A chapter whose notebook records one claim, x * seed, fails for x < 0, and first waits until the file
    ``wait_for`` exists (if given; it says so by creating ``wait_for`` + ".waiting")."""
    source = tmp_path / "trivial.py"
    source.write_text(TRIVIAL)
    values = {"x": 1.0, "seed": 0, "wait_for": ""}
    return replace(CHAPTERS[0], number=99, slug="trivial", source=str(source),
                   parameters={p: values for p in ("smoke", "quick", "paper")})


# --- the sweep file ------------------------------------------------------------------------------------------------

def test_grid_zip_and_seeds_expand_into_every_combination(trivial):
    found = parse_sweep({"profile": "smoke", "grid": {"x": [1.0, 2.0]}, "zip": {"wait_for": ["a", "b", "c"]},
                         "seeds": [0, 1]}, chapter=trivial)
    assert len(found.runs) == 2 * 2 * 3 and found.varied == ("x", "seed", "wait_for")
    assert found.runs[0] == {"x": 1.0, "seed": 0, "wait_for": "a"}
    assert {json.dumps(r, sort_keys=True) for r in found.runs} == {
        json.dumps({"x": x, "seed": s, "wait_for": w}, sort_keys=True)
        for x in (1.0, 2.0) for s in (0, 1) for w in "abc"}
    assert len({found.run_id(r) for r in found.runs}) == 12


@pytest.mark.parametrize("spec, problem", [
    ({"chapter": "nope"}, "unknown chapter 'nope'; valid chapters: 1 (umwelt)"),
    ({"chapter": "umwelt", "profile": "huge"}, "unknown profile 'huge'; valid profiles: smoke, quick, paper"),
    ({"chapter": "umwelt", "grid": {"widht": [1]}}, "unknown parameter(s) widht for chapter umwelt; valid parameters"),
    ({"chapter": "umwelt", "grid": {"seed": []}}, "'grid.seed' is an empty list"),
    ({"chapter": "umwelt", "seeds": 3}, "'seeds' must be a list of values; got 3"),
    ({"chapter": "umwelt", "zip": {"seed": [0, 1], "maxent_n": [4]}}, "zip lists must have one length; got seed: 2, "
                                                                      "maxent_n: 1"),
    ({"chapter": "umwelt", "grid": {"seed": [0]}, "seeds": [1]}, "parameter 'seed' is given twice"),
    ({"chapter": "umwelt", "grid": {"seed": [0]}, "zip": {"seed": [1]}}, "seed given in both 'grid' and 'zip'"),
    ({"chapter": "umwelt", "grid": {"seed": [float("nan")]}}, "parameter 'seed': value nan cannot be passed"),
    ({"chapter": "umwelt", "seeds": [{1, 2}]}, "cannot be passed into a notebook by papermill"),
    ({"chapter": "umwelt", "workers": 2}, "unknown key(s) workers; valid keys: chapter, profile, grid, zip, seeds"),
    (["umwelt"], "a sweep file is a mapping"),
])
def test_bad_sweep_descriptions_are_rejected_with_the_problem_named(spec, problem):
    with pytest.raises(SweepError) as error:
        parse_sweep(spec)
    assert problem in str(error.value)


def test_the_cli_rejects_a_bad_file_before_anything_runs(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("chapter: umwelt\nprofile: smoke\ngrid:\n  seed: [0, 1]\n  day: [2024-01-01]\n")
    assert cli.main(["sweep", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "unknown parameter(s) day for chapter umwelt" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    date = tmp_path / "date.yaml"
    date.write_text("chapter: umwelt\nprofile: smoke\ngrid:\n  seed: [2024-01-01]\n")  # YAML reads a date
    assert cli.main(["sweep", str(date), "--out", str(tmp_path / "out")]) == 2
    assert "value datetime.date(2024, 1, 1) cannot be passed" in capsys.readouterr().err


def test_the_shipped_sweep_files_are_valid():
    files = sorted((REPO_ROOT / "sweeps").glob("*.yaml"))
    assert {f.stem for f in files} >= {"plasticity_seeds", "circuits_width_data", "complexity_matching_large"}
    for file in files:
        assert sweep.load_sweep(file).runs


def test_dry_run_lists_the_runs_and_runs_nothing(tmp_path, capsys):
    spec = tmp_path / "seeds.yaml"
    spec.write_text("chapter: umwelt\nprofile: smoke\nseeds: [0, 1, 2]\n")
    assert cli.main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "3 runs" in lines[0] and sum("to run" in line for line in lines) == 3
    assert not (tmp_path / "out").exists()


# --- running sweeps ------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_local_sweep_runs_each_combination_isolates_a_failure_and_resumes(trivial, tmp_path):
    spec = parse_sweep({"profile": "smoke", "grid": {"x": [0.5, -1.0, 1.5]}, "seeds": [1, 2]}, chapter=trivial)
    out = tmp_path / "out"
    counts = sweep.run_sweep(spec, out, workers=2, plot={"claim": "x times seed", "x": "x"}, progress=False)
    assert counts == {"skipped": 0, "ok": 4, "failed": 2}
    rows = sweep.collect(spec, out)
    for row in rows:
        folder = out / "runs" / row["run"]
        assert json.loads((folder / "parameters.json").read_text())["parameters"] == row["parameters"]
        assert (folder / "notebook.ipynb").is_file() and row["result"]["device"].startswith("cpu")
        if row["parameters"]["x"] < 0:
            assert row["result"]["status"] == "failed" and "x = -1.0 is negative" in row["result"]["error"]
        else:
            measured = row["claims"]["x times seed is small"]["measured"]
            assert measured == row["parameters"]["x"] * row["parameters"]["seed"]
    table = (out / "sweep.csv").read_text().splitlines()
    assert table[0].startswith("run,status,seconds,device,x,seed,x times seed is small [measured]")
    assert len(table) == 7
    report = (out / "report.md").read_text()
    assert "| x times seed is small | 4 | 3 | 1 | 0 | **no** |" in report  # 1.5 x 2 = 3 >= 2
    assert "## Failed runs" in report and (out / "plot.png").is_file()
    again = sweep.run_sweep(spec, out, workers=2, progress=False)
    assert again == {"skipped": 4, "ok": 0, "failed": 2}  # the failed runs are redone, the others skipped


SWEEP_SCRIPT = '''
import sys
from dataclasses import replace
from adaptsym import sweep
from adaptsym.profiles import CHAPTERS
values = {"x": 1.0, "seed": 0, "wait_for": ""}
ch = replace(CHAPTERS[0], number=99, slug="trivial", source=sys.argv[1],
             parameters={p: values for p in ("smoke", "quick", "paper")})
spec = sweep.parse_sweep({"profile": "smoke", "grid": {"wait_for": ["", sys.argv[3]]}}, chapter=ch)
sweep.interrupt_on_sigterm()  # as the CLI does
print(sweep.run_sweep(spec, sys.argv[2], workers=1, progress=False), flush=True)
'''


def kernels() -> set[int]:
    """Process ids of the Jupyter kernels running on this machine."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ipykernel_launcher" in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_sweep_leaves_no_result_kernel_or_temporary_folder_and_a_rerun_redoes_it(trivial, tmp_path, stop):
    out, gate, scratch = tmp_path / "out", tmp_path / "gate", tmp_path / "tmp"
    scratch.mkdir()
    before = kernels()
    process = subprocess.Popen([sys.executable, "-c", SWEEP_SCRIPT, str(trivial.source_path), str(out), str(gate)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, TMPDIR=str(scratch)))  # where the runs' temporary folders go
    try:
        deadline = time.monotonic() + 180
        while not Path(f"{gate}.waiting").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Path(f"{gate}.waiting").exists(), "the second run never started"  # its kernel is executing
        process.send_signal(stop)
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode != 0
    deadline = time.monotonic() + 30
    while kernels() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not kernels() - before  # no kernel goes on computing behind the user's back
    assert not list(scratch.glob("adaptsym-sweep-*"))  # the interrupted run's temporary folder is removed
    spec = parse_sweep({"profile": "smoke", "grid": {"wait_for": ["", str(gate)]}}, chapter=trivial)
    first, second = (out / "runs" / spec.run_id(r) for r in spec.runs)
    assert sweep.finished(first) and not (second / "result.json").exists()
    assert (second / "parameters.json").is_file() and not list(out.rglob("*.tmp"))
    gate.touch()
    assert sweep.run_sweep(spec, out, progress=False) == {"skipped": 1, "ok": 1, "failed": 0}
    assert sweep.finished(second)


@pytest.mark.slow
def test_a_real_smoke_chapter_sweeps_on_two_local_workers(tmp_path, capsys):
    spec = tmp_path / "seeds.yaml"
    spec.write_text("chapter: umwelt\nprofile: smoke\nseeds: [0, 1]\n")
    out = tmp_path / "out"
    assert cli.main(["sweep", str(spec), "--out", str(out), "--workers", "2",
                     "--plot", "claim=max-ent constraints met by the dual solve (eq. 1),x=seed"]) == 0
    assert "2 ok, 0 failed, 0 already finished" in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "| max-ent constraints met by the dual solve (eq. 1) | 2 | 2 | 0 | 0 | yes |" in report and (out / "plot.png").is_file()
    assert cli.main(["sweep", str(spec), "--out", str(out)]) == 0
    assert "0 ok, 0 failed, 2 already finished" in capsys.readouterr().out


@pytest.mark.slow
def test_a_sweep_runs_on_a_dask_cluster_and_its_results_come_back_as_data(trivial, tmp_path):
    pytest.importorskip("distributed")
    scheduler_file = tmp_path / "scheduler.json"
    dask = Path(sys.executable).with_name("dask")
    processes = [subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(scheduler_file)], stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        processes += [subprocess.Popen([str(dask), "worker", "--scheduler-file", str(scheduler_file), "--nthreads",
                                        "1", "--no-dashboard", "--local-directory", str(tmp_path / f"worker{i}")],
                                       cwd=tmp_path, stderr=subprocess.DEVNULL) for i in range(2)]
        address = json.loads(scheduler_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
        spec = parse_sweep({"profile": "smoke", "grid": {"x": [0.5, -1.0]}, "seeds": [1, 3]}, chapter=trivial)
        counts = sweep.run_sweep(spec, tmp_path / "out", scheduler=address, progress=False)
        assert counts == {"skipped": 0, "ok": 2, "failed": 2}
        rows = {json.dumps(r["parameters"], sort_keys=True): r for r in sweep.collect(spec, tmp_path / "out")}
        assert rows[json.dumps({"seed": 3, "x": 0.5}, sort_keys=True)]["claims"]["x times seed is small"][
            "measured"] == 1.5
        assert all((tmp_path / "out" / "runs" / r["run"] / "notebook.ipynb").is_file() for r in rows.values())
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


TRAIN_SCRIPT = '''
import os, sys, time, torch
import adaptsym.train as train
from adaptsym.train import TrainConfig, train_run
epoch = train._Training.epoch
def logged(self, *args, **kwargs):
    with open(sys.argv[1], "a") as log:
        log.write(f"{os.getpid()}\\n")
    time.sleep(0.05)  # 2 s of training: both processes reach the run before it is finished
    return epoch(self, *args, **kwargs)
train._Training.epoch = logged
x = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
y = torch.where(x[:, 0] > 0, 1.0, -1.0)
config = TrainConfig(model="mlp", widths=(5, 64, 64, 1), optimizer="sgd", lr=0.05, batch_size=8, epochs=40, seed=0)
run = train_run(config, x, y, root=sys.argv[2], device="cpu", progress=False)
print(run.path, run.complete)
'''


@pytest.mark.slow
def test_two_processes_needing_one_training_run_train_it_once(tmp_path):
    log = tmp_path / "epochs.log"
    processes = [subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, str(log), str(tmp_path / "runs")],
                                  stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0].split() for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert outputs[0] == outputs[1] and outputs[0][1] == "True"  # the same finished run for both
    trainers = set(log.read_text().split())
    assert len(trainers) == 1 and len(log.read_text().split()) == 40  # one process trained all 40 epochs
