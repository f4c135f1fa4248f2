"""The ``oco2explore`` command: one entry point, one sub-command per task (CONTRACT §4).

Exit status: 0 success; 2 bad usage or unreadable input (named in a one-line
message, no traceback); 3 a batch finished but some inputs failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import FitConfig
from .errors import InputError, SchemaError

log = logging.getLogger("oco2explore")

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PARTIAL = 3


class _Parser(argparse.ArgumentParser):
    """argparse with the project's exit status for usage errors (2, one line)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# --- the one parameter object on the command line -------------------------------------------


def _field_type(field: dataclasses.Field) -> type:
    hint = typing.get_type_hints(FitConfig)[field.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return args[0]
    return hint


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--config FIT.json`` and one ``--<field>`` option per :class:`FitConfig` field."""
    group = parser.add_argument_group(
        "fit parameters", "override the defaults or --config; 'none' switches a threshold off"
    )
    group.add_argument("--config", type=Path, help="JSON file with fit parameters")
    defaults = FitConfig()
    for field in dataclasses.fields(FitConfig):
        kind = _field_type(field)
        group.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=f"cfg_{field.name}",
            type=str,
            default=None,
            metavar=kind.__name__.upper(),
            help=f"default {getattr(defaults, field.name)!r}",
        )


def _parse_bool(raw: str) -> bool:
    """``true/yes/on/1`` or ``false/no/off/0`` (any case)."""
    value = raw.strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise ValueError(raw)


def config_from_args(args: argparse.Namespace) -> FitConfig:
    """The :class:`FitConfig` given by ``--config`` and the per-field options."""
    config = FitConfig.from_json(args.config) if args.config else FitConfig()
    hints = typing.get_type_hints(FitConfig)
    changes = {}
    for field in dataclasses.fields(FitConfig):
        raw = getattr(args, f"cfg_{field.name}", None)
        if raw is None:
            continue
        optional = type(None) in typing.get_args(hints[field.name])
        if optional and raw.lower() == "none":
            changes[field.name] = None
            continue
        kind = _field_type(field)
        try:
            changes[field.name] = _parse_bool(raw) if kind is bool else kind(raw)
        except ValueError as exc:
            opt = "--" + field.name.replace("_", "-")
            raise InputError(f"{opt} expects {kind.__name__}, got {raw!r}") from exc
    return config.replace(**changes) if changes else config


# --- commands --------------------------------------------------------------------------------


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import simulate

    paths = simulate(
        args.out,
        days=args.days,
        seed=args.seed,
        start=args.start,
        regions=args.region,
        progress=not args.quiet,
        plumes=not args.no_plumes,
    )
    log.info("wrote %d Lite file(s) and truth.csv to %s", len(paths), args.out)
    return EXIT_OK


def _cmd_extract(args: argparse.Namespace) -> int:
    from .lite import extract
    from .tableio import table_suffix

    table_suffix(args.out)
    failures = extract(args.files, args.out, quality=args.quality, progress=not args.quiet)
    for path, reason in failures:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    return EXIT_PARTIAL if failures else EXIT_OK


def _cmd_detect(args: argparse.Namespace) -> int:
    from .scan import detect
    from .soundings import read_soundings
    from .tableio import table_suffix, write_table

    table_suffix(args.out)
    config = config_from_args(args)
    soundings = read_soundings(args.soundings, quality=config.quality)
    peaks = detect(soundings, config, progress=not args.quiet)
    write_table(
        peaks, args.out, metadata={"fit_config": config.to_dict(), "input": str(args.soundings)}
    )
    log.info("%d peaks (%d passed) -> %s", len(peaks), int(peaks["passed"].sum()), args.out)
    return EXIT_OK


def _cmd_match(args: argparse.Namespace) -> int:
    from .inventory import load_inventories
    from .match import MatchConfig, match_peaks
    from .tableio import read_table, read_table_metadata, table_suffix, write_table

    table_suffix(args.out)
    peaks = read_table(args.peaks)
    sources = load_inventories(args.inventory or ["coco2"])
    config = MatchConfig()
    try:
        matched = match_peaks(peaks, sources, top_k=args.top_k, config=config)
    except SchemaError as exc:  # name the file the bad peak table came from
        raise SchemaError(exc.reason, path=args.peaks) from exc
    meta = read_table_metadata(args.peaks)
    meta["inventories"] = sorted(set(sources["inventory"].astype(str)))
    meta["match_config"] = config.to_dict()
    write_table(matched, args.out, metadata=meta)
    log.info("%d candidate rows for %d peaks -> %s", len(matched), len(peaks), args.out)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run_pipeline

    report = run_pipeline(
        args.input,
        args.out,
        config=config_from_args(args),
        scheduler=args.scheduler,
        workers=args.workers,
        force=args.force,
        inventories=args.inventory or ["coco2"],
        progress=not args.quiet,
        swift_config=args.swift_config,
    )
    for path, reason in report.failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    return EXIT_PARTIAL if report.failed else EXIT_OK


def _cmd_storage(args: argparse.Namespace) -> int:
    from .storage import storage_command

    return storage_command(args)


def _cmd_app(args: argparse.Namespace) -> int:
    from .app.serve import serve

    return serve(
        data=args.data,
        port=args.port,
        open_browser=not args.no_browser,
        ip=args.ip,
        pool_size=args.pool_size,
        cull_idle_s=args.cull_idle,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``oco2explore`` command."""
    parser = _Parser(prog="oco2explore", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"oco2explore {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bar, warnings only")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "simulate", parents=[common], help="write simulated OCO-2 Lite files + truth"
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--days", type=int, default=1, help="number of days (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--start", default="2016-08-31", help="first day, YYYY-MM-DD")
    p.add_argument(
        "--region", action="append", help="simulate only passes over this region (repeatable)"
    )
    p.add_argument("--no-plumes", action="store_true", help="no power-plant plumes (null data)")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("extract", parents=[common], help="Lite NC4 files -> sounding table")
    p.add_argument("files", nargs="+", type=Path, help="Lite files or folders of them")
    p.add_argument("--out", type=Path, required=True, help="sounding table (.parquet or .csv)")
    p.add_argument("--quality", choices=["good", "all"], default="good")
    p.set_defaults(func=_cmd_extract)

    p = sub.add_parser("detect", parents=[common], help="sounding table -> peak table")
    p.add_argument("soundings", type=Path, help="sounding table, Lite file or folder")
    p.add_argument("--out", type=Path, required=True, help="peak table (.parquet or .csv)")
    add_config_options(p)
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("match", parents=[common], help="peak table + inventory -> ranked sources")
    p.add_argument("peaks", type=Path, help="peak table (.parquet or .csv)")
    p.add_argument(
        "--inventory",
        action="append",
        help="inventory name (coco2, ...) or source-table file; repeatable (default coco2)",
    )
    p.add_argument("--top-k", type=int, default=5, help="candidates per peak (default 5)")
    p.add_argument("--out", type=Path, required=True, help="match table (.parquet or .csv)")
    p.set_defaults(func=_cmd_match)

    p = sub.add_parser("run", parents=[common], help="the whole batch on Dask, resumable")
    p.add_argument("input", help="folder or swift://container/prefix of Lite files")
    p.add_argument("--out", required=True, help="folder or swift://container/prefix")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:port)")
    p.add_argument("--workers", type=int, help="local workers (default: one per core)")
    p.add_argument("--force", action="store_true", help="redo files already done")
    p.add_argument("--inventory", action="append", help="as for 'match'")
    p.add_argument("--swift-config", type=Path, help="JSON config in the seed's layout")
    add_config_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("storage", parents=[common], help="ls / put / get on the datasets store")
    p.add_argument("action", choices=["ls", "put", "get", "rm", "url", "nasa"])
    p.add_argument(
        "paths",
        nargs="*",
        help="ls [PREFIX] | put LOCAL [KEY] | get KEY [LOCAL] | rm KEY | url KEY (public URL)"
        " | nasa START [END] (download Lite files from NASA GES DISC, days YYYY-MM-DD)",
    )
    p.add_argument("--store", default=".", help="folder or swift://container[/prefix] (default: .)")
    p.add_argument("--swift-config", type=Path, help="JSON config in the seed's layout")
    p.add_argument(
        "--collection", default="OCO2_L2_Lite_FP", help="nasa: OCO2_L2_Lite_FP or OCO3_L2_Lite_FP"
    )
    p.add_argument("--collection-version", help="nasa: collection version, e.g. 11.1r")
    p.add_argument("--bbox", help="nasa: only days crossing it, --bbox=W,S,E,N (deg)")
    p.set_defaults(func=_cmd_storage)

    p = sub.add_parser("app", parents=[common], help="serve the Voila explorer")
    p.add_argument("--data", help="folder or swift://container/prefix (default: demo data)")
    p.add_argument("--port", type=int, default=8866, help="port, 1-65535 (default 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--pool-size", type=int, default=2, help="preheated kernels (default 2)")
    p.add_argument(
        "--cull-idle",
        type=int,
        default=600,
        help="shut down kernels idle without a page for this many s (default 600, 0: never)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=_cmd_app)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"oco2explore {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("oco2explore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
