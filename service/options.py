"""Command-line options several commands share, and how they meet `sheetkeeper.toml`.

An option given on the command line wins; else the config's value for that workbook (its
[[watch]] entry, then [rules]); else the built-in default. So `sheetkeeper apply` by hand judges
a watched workbook exactly as the running service does.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path


from rules.dates import DATE_ORDERS
from rules.status import StatusThresholds
from sheet_templates import BUILTIN
from sync.errors import SheetkeeperError
from sync.settings import DATA_FOLDER, RuleSettings, default_data_folder
from i18n import _, say

from . import config as service_config
from .config import ServiceConfig

DATA_HELP = ("the data folder (audit log, state, snapshots); default: the config's, else "
             ".sheetkeeper beside the workbook")
CONFIG_HELP = "the service's config file (default: ./sheetkeeper.toml, else the embedded default)"


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(say(_("{text} is not a date like 2026-11-23",
                                               text=repr(text)))) from None


def region_arg(text: str) -> str:
    import phonenumbers    # only when a region is given: a fifth of the CLI's start-up
    region = text.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise argparse.ArgumentTypeError(say(
            _("{text} is not a region phonenumbers knows; use a two-letter country code such as "
              "CN, GB or US", text=repr(text))))
    return region


def report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", choices=("text", "json"), default="text",
                        help=say(_("text for people (default) or one JSON object for scripts")))
    parser.add_argument("--limit", type=int, default=50,
                        help=say(_("rows shown per section in text output; 0 for all (default: "
                                   "50)")))


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)


def rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", choices=BUILTIN,
                        help=say(_("the template the sheet follows (default: recognised from "
                                   "headers)")))
    parser.add_argument("--sheet", help=say(_("the sheet holding the list (default: recognised)")))
    parser.add_argument("--region", type=region_arg,
                        help=say(_("country for phone numbers typed without +country code (CN, "
                                   "GB, …); default: the config's, else CN for Chinese headers, "
                                   "none otherwise")))
    parser.add_argument("--date-order", choices=DATE_ORDERS,
                        help=say(_("how to read 03/05/2024: dmy, mdy, or auto (flag it when "
                                   "unclear); default: the config's, else auto")))
    parser.add_argument("--today", type=date_arg, default=None,
                        help=say(_("compute statuses as of this date (default: today)")))
    t = StatusThresholds()
    parser.add_argument("--new-days", type=int,
                        help=say(_("days a row stays New (default: the config's, else {new_days})",
                                   new_days=t.new_days)))
    parser.add_argument("--paused-days", type=int,
                        help=say(_("days without contact before Paused (default: the config's, "
                                   "else {paused_days})", paused_days=t.paused_days)))
    parser.add_argument("--churned-days", type=int,
                        help=say(_("days without contact before Churned (default: the config's, "
                                   "else {churned_days})", churned_days=t.churned_days)))
    config_option(parser)


def config_of(args: argparse.Namespace) -> ServiceConfig:
    return service_config.find(getattr(args, "config", None))


def settings(args: argparse.Namespace, workbook: Path | None) -> RuleSettings:
    """The config's settings for `workbook`, with what the command line says on top."""
    base = config_of(args).rule_settings(workbook, args.today or dt.date.today())
    t = base.thresholds
    try:
        thresholds = StatusThresholds(
            args.new_days if args.new_days is not None else t.new_days,
            args.paused_days if args.paused_days is not None else t.paused_days,
            args.churned_days if args.churned_days is not None else t.churned_days)
    except ValueError as e:
        raise SheetkeeperError(str(e)) from None
    return dataclasses.replace(base, phone_region=args.region or base.phone_region,
                               date_order=args.date_order or base.date_order,
                               thresholds=thresholds)


def data_folder(args: argparse.Namespace, workbook: Path | None) -> Path:
    if getattr(args, "data", None):
        return args.data
    config = config_of(args)
    if workbook is not None:
        return config.data if config.watch_for(workbook) else default_data_folder(workbook)
    if config.source is not None or config.data.is_dir():
        return config.data
    if Path(DATA_FOLDER).is_dir():
        return Path(DATA_FOLDER)
    raise SheetkeeperError(_("no data folder here (.sheetkeeper or workbooks/.sheetkeeper); name "
                             "the workbook, pass --data, or run from the folder with "
                             "sheetkeeper.toml"))


def google_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--credentials", type=Path, metavar="KEY.json",
                        help=say(_("for a Google Sheet: the service account's JSON key file "
                                   "(share the sheet with the account's email first); default: "
                                   "the config's [google]")))
    parser.add_argument("--api-endpoint", metavar="URL",
                        help=say(_("for a Google Sheet: a local emulator of Google's APIs "
                                   "instead of Google (python -m tests.fakesheets); no "
                                   "credentials needed")))


def google_source(ref: str) -> str:
    """A Google Sheet named on the command line (gsheet:KEY, a key or its address) as the
    audit log and the data folder name it: gsheet:KEY."""
    from sync.gsheets.client import spreadsheet_key
    return f"gsheet:{spreadsheet_key(ref)}"


def google_access(args: argparse.Namespace):
    """How to reach Google: as the command line says, else as the config's [google] says."""
    from sync.opening import GoogleAccess
    if getattr(args, "api_endpoint", None) or getattr(args, "credentials", None):
        return GoogleAccess(args.credentials, None, args.api_endpoint)
    google = config_of(args).google
    return GoogleAccess(google.credentials, google.authorized_user, google.api_endpoint)


def google_sheet(args: argparse.Namespace, target: str):
    """The Google Sheet `target`, reached the way the command line says, else the config's
    [google] table says."""
    return google_access(args).open(target)
