"""The ``oco2explore`` command: one entry point, one sub-command per task (CONTRACT §4).

Exit status: 0 success; 2 bad usage or unreadable input (named in a one-line
message, no traceback); 3 a batch finished but some inputs failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import PRESETS, ConfigFields, FitConfig, MatchConfig, field_kind, option_name
from .errors import InputError, SchemaError

log = logging.getLogger("oco2explore")

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PARTIAL = 3
#: Days ``simulate`` accepts: nanosecond timestamps end in 2262; OCO-2 launched in 2014.
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2200, 12, 31)


class _Parser(argparse.ArgumentParser):
    """argparse with the project's exit status for usage errors (2, one line)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# --- the parameter objects on the command line ----------------------------------------------


def add_config_options(
    parser: argparse.ArgumentParser, cls: type[ConfigFields] = FitConfig, flag: str = "--config"
) -> None:
    """Add ``flag FILE.json`` and one ``--<field>`` option per field of ``cls``.

    The values stay text here; :meth:`ConfigFields.from_strings` parses and checks them,
    as it does for the explorer's links.
    """
    group = parser.add_argument_group(
        f"{cls.KIND} parameters", "override the defaults or the JSON file; 'none' switches off"
    )
    group.add_argument(flag, type=Path, help=f"JSON file with {cls.KIND} parameters")
    if cls is FitConfig:
        group.add_argument(
            "--preset",
            choices=sorted(PRESETS),
            default=None,
            help="named configuration the options change: v2 (the defaults: per-orbit "
            "noise model, false-alarm threshold, σ 1-40 km) or v1 (the detector before it)",
        )
    defaults = cls()
    for field in dataclasses.fields(cls):
        kind, _optional = field_kind(cls, field.name)
        group.add_argument(
            option_name(field.name),
            dest=f"{cls.KIND}_{field.name}",
            type=str,
            default=None,
            metavar=kind.__name__.upper(),
            help=f"default {getattr(defaults, field.name)!r}",
        )


def _config(args: argparse.Namespace, cls: type[ConfigFields], flag: str) -> Any:
    """The ``cls`` given by its JSON file (``flag``) and the per-field options."""
    file = getattr(args, flag.lstrip("-").replace("-", "_"), None)
    preset = getattr(args, "preset", None) if cls is FitConfig else None
    if file and preset:
        raise InputError(f"give {flag} or --preset, not both")
    base = cls.from_json(file) if file else FitConfig.preset(preset) if preset else cls()
    given = {
        f.name: getattr(args, f"{cls.KIND}_{f.name}")
        for f in dataclasses.fields(cls)
        if getattr(args, f"{cls.KIND}_{f.name}", None) is not None
    }
    return cls.from_strings(given, base=base)


def config_from_args(args: argparse.Namespace) -> FitConfig:
    """The :class:`FitConfig` given by ``--config`` and the per-field options."""
    return _config(args, FitConfig, "--config")


def match_config_from_args(args: argparse.Namespace) -> MatchConfig:
    """The :class:`MatchConfig` given by ``--match-config`` and the per-field options."""
    return _config(args, MatchConfig, "--match-config")


def _bounded_int(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """argparse type: an integer in ``[lo, hi]``."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expects an integer, got {raw!r}") from None
        if value < lo or (hi is not None and value > hi):
            where = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
            raise argparse.ArgumentTypeError(f"must be {where}, got {value}")
        return value

    return parse


def _day(raw: str) -> str:
    """argparse type: a day ``YYYY-MM-DD`` within the range of nanosecond times."""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expects a day YYYY-MM-DD, got {raw!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"must be between {FIRST_DAY} and {LAST_DAY}, got {raw}")
    return raw


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
    from .readers import read_soundings
    from .scan import detect
    from .tableio import table_suffix, write_table

    table_suffix(args.out)
    config = config_from_args(args)
    if args.model is not None and args.scorer != "learned":
        raise InputError("--model needs --scorer learned")
    meta: dict[str, Any] = {"fit_config": config.to_dict(), "input": str(args.soundings)}
    if args.scorer == "learned":
        from .learn import load, model_config, score, scorer_metadata

        scorer = load(args.model)  # a bad model file fails before the input is read
        soundings = read_soundings(args.soundings, quality=config.quality)
        peaks = score(soundings, config, scorer)
        meta["fit_config"] = model_config(scorer, config).to_dict()  # the candidates' own
        meta.update(scorer_metadata(scorer))
    else:
        soundings = read_soundings(args.soundings, quality=config.quality)
        peaks = detect(soundings, config, progress=not args.quiet)
        meta["scorer"] = "fit"
    write_table(peaks, args.out, metadata=meta)
    log.info("%d peaks (%d passed) -> %s", len(peaks), int(peaks["passed"].sum()), args.out)
    return EXIT_OK


def _cmd_learn(args: argparse.Namespace) -> int:
    from .learn import learn_tracks, save

    config = config_from_args(args)
    scorer = learn_tracks(
        args.tracks,
        args.labels,
        config,
        inventories=args.inventory or ["coco2"],
        seed=args.seed,
        guarded=args.guard,
    )
    save(scorer, args.out)
    card = scorer.card
    log.info(
        "%d positive, %d negative candidates (%d unlabelled dropped); threshold %.3f -> %s",
        card["n_positive"],
        card["n_negative"],
        card["n_unlabelled_dropped"],
        scorer.threshold,
        args.out,
    )
    return EXIT_OK


def _cmd_match(args: argparse.Namespace) -> int:
    from .inventory import load_inventories
    from .match import match_peaks
    from .readers import read_peaks
    from .tableio import read_table_metadata, table_suffix, write_table

    table_suffix(args.out)
    config = match_config_from_args(args)
    peaks = read_peaks(args.peaks)
    sources = load_inventories(args.inventory or ["coco2"])
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
        match_config=match_config_from_args(args),
        scheduler=args.scheduler,
        workers=args.workers,
        force=args.force,
        inventories=args.inventory or ["coco2"],
        progress=not args.quiet,
        swift_config=args.swift_config,
    )
    for path, reason in report.failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    if args.report is not None:
        from .report import report_run

        report_run(args.out, args.report)
    return EXIT_PARTIAL if report.failed else EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import report_run

    report_run(args.input, args.out, tracks=args.tracks, profiles=not args.no_profiles)
    return EXIT_OK


def _store_and_key(location: str, args: argparse.Namespace) -> tuple[Any, str]:
    """The store and key of a path as typed: ``swift://container/key`` or a key in ``--store``."""
    from .storage import is_swift_url, open_store, split_swift_url

    if is_swift_url(location):
        container, key = split_swift_url(location)
        return open_store(f"swift://{container}", swift_config=args.swift_config), key
    return open_store(args.store, swift_config=args.swift_config), location


def _cmd_storage(args: argparse.Namespace) -> int:
    from .storage import get_tree, put_tree

    paths = list(args.paths)
    least, most, usage = _STORAGE_USAGE[args.action]
    if not least <= len(paths) <= most:
        raise InputError(f"usage: oco2explore storage {usage}")
    if args.action == "ls":
        store, prefix = _store_and_key(paths[0] if paths else "", args)
        for info in store.list_info(prefix):
            print(f"{info.size:>12d}  {info.key}")
    elif args.action == "put":
        local = Path(paths[0])
        store, key = _store_and_key(paths[1] if len(paths) > 1 else "", args)
        if key.endswith("/") or not key:  # into a folder, as cp and aws s3 cp do
            key += local.name
        for done in put_tree(store, local, key):
            print(done)
    elif args.action == "get":
        store, key = _store_and_key(paths[0], args)
        for path in get_tree(store, key, Path(paths[1]) if len(paths) > 1 else None):
            print(path)
    elif args.action == "url":
        store, key = _store_and_key(paths[0], args)
        print(store.url(key))
    else:
        store, key = _store_and_key(paths[0], args)
        store.delete(key)
    return EXIT_OK


#: ``storage`` actions: fewest and most paths, usage line.
_STORAGE_USAGE = {
    "ls": (0, 1, "ls [PREFIX | swift://CONTAINER/PREFIX]"),
    "put": (1, 2, "put LOCAL [KEY | swift://CONTAINER/KEY | swift://CONTAINER/PREFIX/]"),
    "get": (1, 2, "get KEY|swift://CONTAINER/KEY [LOCAL]"),
    "rm": (1, 1, "rm KEY|swift://CONTAINER/KEY"),
    "url": (1, 1, "url KEY|swift://CONTAINER/KEY"),
}


def _cmd_nasa(args: argparse.Namespace) -> int:
    from .nasa import download_lite

    for key in download_lite(
        args.start,
        args.end,
        args.out,
        collection=args.collection,
        version=args.collection_version,
        bbox=args.bbox,
        progress=not args.quiet,
        swift_config=args.swift_config,
    ):
        print(key)
    return EXIT_OK


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
    p.add_argument("--days", type=_bounded_int(1), default=1, help="number of days (default 1)")
    p.add_argument("--seed", type=_bounded_int(0), default=0, help="random seed (default 0)")
    p.add_argument("--start", type=_day, default="2016-08-31", help="first day, YYYY-MM-DD")
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
    p.add_argument(
        "--scorer",
        choices=["fit", "learned"],
        default="fit",
        help="decide 'passed' by the fit's thresholds (default) or by a learned scorer "
        "(adds learned_probability, CONTRACT §6)",
    )
    p.add_argument(
        "--model", type=Path, help="learned-scorer model file (default: the packaged model)"
    )
    add_config_options(p)
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser(
        "learn", parents=[common], help="labelled tracks -> learned scorer (CONTRACT §6)"
    )
    p.add_argument(
        "tracks",
        nargs="+",
        type=Path,
        help="sounding inputs; with --labels truth, simulation folders holding truth.csv",
    )
    p.add_argument(
        "--labels",
        choices=["truth", "inventory"],
        required=True,
        help="simulated truth, or inventory sources upwind with the wind (real files)",
    )
    p.add_argument(
        "--inventory", action="append", help="for --labels inventory: as for 'match' (coco2)"
    )
    p.add_argument("--out", type=Path, required=True, help="model file (.joblib; card beside)")
    p.add_argument("--seed", type=_bounded_int(0), default=0, help="random seed (default 0)")
    p.add_argument(
        "--no-guard",
        dest="guard",
        action="store_false",
        help="let the model decide every candidate (default: only the fit scan's passed peaks "
        "and its significance rejections up to 1 noise peak per 10,000 km, "
        "oco2explore.learn.DEFAULT_GUARD)",
    )
    add_config_options(p)
    p.set_defaults(func=_cmd_learn)

    p = sub.add_parser("match", parents=[common], help="peak table + inventory -> ranked sources")
    p.add_argument("peaks", type=Path, help="peak table (.parquet or .csv)")
    p.add_argument(
        "--inventory",
        action="append",
        help="inventory name (coco2, ...) or source-table file; repeatable (default coco2)",
    )
    p.add_argument(
        "--top-k", type=_bounded_int(1), default=5, help="candidates per peak (default 5)"
    )
    p.add_argument("--out", type=Path, required=True, help="match table (.parquet or .csv)")
    add_config_options(p, MatchConfig, "--match-config")
    p.set_defaults(func=_cmd_match)

    p = sub.add_parser("run", parents=[common], help="the whole batch on Dask, resumable")
    p.add_argument("input", help="folder or swift://container/prefix of Lite files")
    p.add_argument("--out", required=True, help="folder or swift://container/prefix")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:port)")
    p.add_argument("--workers", type=_bounded_int(1), help="local workers (default: one per core)")
    p.add_argument("--force", action="store_true", help="redo files already done")
    p.add_argument("--inventory", action="append", help="as for 'match'")
    p.add_argument("--swift-config", type=Path, help="JSON config in the seed's layout")
    p.add_argument("--report", type=Path, metavar="DIR", help="then write the source report to DIR")
    add_config_options(p)
    add_config_options(p, MatchConfig, "--match-config")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "report", parents=[common], help="run results -> per-source report (sources, crossings)"
    )
    p.add_argument("input", help="run folder ('run --out') or a match table")
    p.add_argument("--out", type=Path, required=True, help="folder for the tables and figure")
    p.add_argument("--tracks", type=Path, help="track summary of a match table's passes")
    p.add_argument(
        "--no-profiles",
        action="store_true",
        help="compare with the annual inventory, not at the overpass month and hour",
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("storage", parents=[common], help="ls / put / get on the datasets store")
    p.add_argument("action", choices=sorted(_STORAGE_USAGE))
    p.add_argument(
        "paths",
        nargs="*",
        help=" | ".join(usage for _lo, _hi, usage in _STORAGE_USAGE.values())
        + " (keys are relative to --store; swift:// URLs name their own container)",
    )
    p.add_argument("--store", default=".", help="folder or swift://container[/prefix] (default: .)")
    p.add_argument("--swift-config", type=Path, help="JSON config in the seed's layout")
    p.set_defaults(func=_cmd_storage)

    p = sub.add_parser(
        "nasa", parents=[common], help="download Lite files from NASA GES DISC into a store"
    )
    p.add_argument("start", help="first day, YYYY-MM-DD")
    p.add_argument("end", nargs="?", help="last day, YYYY-MM-DD (default: start)")
    p.add_argument("--out", default=".", help="folder or swift://container[/prefix] (default: .)")
    p.add_argument("--swift-config", type=Path, help="JSON config in the seed's layout")
    p.add_argument(
        "--collection", default="OCO2_L2_Lite_FP", help="OCO2_L2_Lite_FP or OCO3_L2_Lite_FP"
    )
    p.add_argument("--collection-version", help="collection version, e.g. 11.1r")
    p.add_argument("--bbox", help="only days crossing it, --bbox=W,S,E,N (deg)")
    p.set_defaults(func=_cmd_nasa)

    p = sub.add_parser("app", parents=[common], help="serve the Voila explorer")
    p.add_argument("--data", help="folder or swift://container/prefix (default: demo data)")
    p.add_argument(
        "--port", type=_bounded_int(1, 65535), default=8866, help="port, 1-65535 (default 8866)"
    )
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--pool-size", type=_bounded_int(0, 64), default=2, help="preheated kernels (default 2)"
    )
    p.add_argument(
        "--cull-idle",
        type=_bounded_int(0, 10**7),
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
    except OSError as exc:  # a write or read the library did not name: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
        print(f"oco2explore {args.command}: error: {where}{reason}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("oco2explore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
