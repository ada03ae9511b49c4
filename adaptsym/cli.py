"""The ``adaptsym`` command: list chapters and profiles, run one chapter, sweep one over parameters, build the book,
publish it, fetch data."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from . import profiles
from .profiles import CHAPTERS, DEFAULT_PROFILE, PROFILES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adaptsym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="chapters, profiles and each chapter's parameters per profile")
    run = sub.add_parser("run", help="execute one chapter with papermill")
    run.add_argument("chapter", help="chapter number or slug (see `adaptsym list`)")
    run.add_argument("--profile", default=DEFAULT_PROFILE, help=f"one of {', '.join(PROFILES)}")
    run.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                     help="override a parameter (value read as YAML); repeatable")
    run.add_argument("--out", default=None, help="output folder (default build/runs/<profile>)")
    book = sub.add_parser("book", help="execute every chapter and build the HTML book")
    book.add_argument("--profile", default=DEFAULT_PROFILE, help=f"one of {', '.join(PROFILES)}")
    book.add_argument("--publish", action="store_true", help="then push it to the gh-pages branch (see `publish`)")
    publish = sub.add_parser("publish", help="push the built book to the gh-pages branch of origin (ghp-import)")
    publish.add_argument("--remote", default="origin", help="git remote to push to (default origin)")
    sweep = sub.add_parser("sweep", help="rerun one chapter over a grid of parameters (a YAML sweep file)")
    sweep.add_argument("file", help="the sweep file (see sweeps/ and the README)")
    sweep.add_argument("--out", default=None, help="output folder (default build/sweeps/<file name>)")
    sweep.add_argument("--workers", type=int, default=1, help="runs at a time on this machine (default 1)")
    sweep.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="run on this Dask distributed cluster instead of locally")
    sweep.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    sweep.add_argument("--plot", default=None, metavar="claim=NAME,x=PARAM",
                       help="plot a claim's measured value against a varied parameter in the report")
    fetch = sub.add_parser("fetch", help="download a data set with torchvision (needs internet)")
    fetch.add_argument("dataset", help="fashion-mnist, mnist or cifar10")
    fetch.add_argument("--root", default=None, help="where to store it (default: $ADAPTSYM_DATA or the cache)")
    return parser


def _list() -> None:
    print(f"profiles: {', '.join(PROFILES)} (default {DEFAULT_PROFILE})\n")
    for ch in CHAPTERS:
        print(f"{ch.number:2d}  {ch.slug:12s} {ch.title}   [{ch.source}]")
        width = max(len(n) for n in ch.parameter_names())
        print(f"      {'parameter':{width}s}  " + "  |  ".join(PROFILES))
        for name in ch.parameter_names():
            values = "  |  ".join(repr(ch.parameters[p][name]) for p in PROFILES)
            print(f"      {name:{width}s}  {values}")
        print()


def _run(args: argparse.Namespace) -> None:
    from .book import execute_chapter

    ch = profiles.chapter(args.chapter)
    overrides = dict(profiles.parse_override(text) for text in args.parameter)
    run = execute_chapter(ch, args.profile, overrides, out_dir=args.out)
    print(f"chapter {ch.number} ({ch.slug}), profile {args.profile}: {run.seconds:.0f} s")
    print(f"executed notebook: {run.notebook}")
    print(f"claims:            {run.claims}")


def _sweep(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .book import build_dir
    from .sweep import finished, interrupt_on_sigterm, load_sweep, parse_plot, run_sweep

    interrupt_on_sigterm()  # a cancelled batch job stops like Ctrl-C: no run left going, none half-written
    sweep = load_sweep(args.file)
    plot = parse_plot(args.plot, sweep) if args.plot else None
    out = Path(args.out or build_dir() / "sweeps" / Path(args.file).stem)
    print(f"sweep of chapter {sweep.chapter.number} ({sweep.chapter.slug}), profile {sweep.profile}: "
          f"{len(sweep.runs)} runs into {out}")
    if args.dry_run:
        for overrides in sweep.runs:
            run_id = sweep.run_id(overrides)
            state = "finished" if finished(out / "runs" / run_id) else "to run"
            print(f"  {run_id}  {state:8s}  {json.dumps(overrides)}")
        return
    counts = run_sweep(sweep, out, workers=args.workers, scheduler=args.scheduler, plot=plot)
    print(f"{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} already finished")
    print(f"table:  {out / 'sweep.csv'}\nreport: {out / 'report.md'}")
    if counts["failed"]:
        raise RuntimeError(f"{counts['failed']} run(s) failed: their errors are in {out / 'report.md'}; "
                           "rerun the same command to redo them")


def _fetch(args: argparse.Namespace) -> None:
    from .data import load_images

    for split in ("train", "test"):
        images, _ = load_images(args.dataset, split, root=args.root, download=True)
        print(f"{args.dataset} {split}: {tuple(images.shape)}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            _list()
        elif args.command == "run":
            _run(args)
        elif args.command == "book":
            from .book import build_book, publish

            build_book(args.profile)
            if args.publish:
                publish()
        elif args.command == "publish":
            from .book import publish

            publish(remote=args.remote)
        elif args.command == "sweep":
            _sweep(args)
        elif args.command == "fetch":
            _fetch(args)
    except KeyboardInterrupt:
        print("adaptsym: interrupted; finished runs are kept, rerun the same command to resume", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError, subprocess.CalledProcessError) as err:
        # ChapterFailed is a RuntimeError; CalledProcessError is a failed Jupyter Book build
        print(f"adaptsym: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
