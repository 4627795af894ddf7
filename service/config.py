"""`sheetkeeper.toml`: what the service watches and how it judges, read with stdlib tomllib.

    data = ".sheetkeeper"              # the data folder (audit log, state, snapshots)

    [rules]                            # defaults for every workbook
    region = "GB"
    date_order = "dmy"
    new_days = 30
    paused_days = 60
    churned_days = 180
    auto_merge = "none"                # or "certain"

    [service]
    debounce = 0.3                     # seconds of quiet after a save before a cycle
    poll = 0                           # > 0: poll every N seconds (network shares) instead of
                                       # inotify, which misses other machines' writes
    retry_max = 300                    # longest wait between retries of a failing workbook
    excel_poll = 30                    # seconds between looks at a workbook open in Excel
                                       # (Windows, macOS: cleaned in the open book)

    [points]                           # loyalty points from purchases (Purchases tab)
    per = 100                          # every whole 100 of a purchase's amount…
    points = 10                        # …earns 10 points
    expire_months = 0                  # purchases older than this no longer count (0: never)

    [tiers]                            # the Tier by rule (without this table: left to people)
    vip_spend = 10000                  # VIP: spend in the last `months` at least this…
    vip_orders = 12                    # …or this many orders; Normal: any purchase; else Prospect
    months = 12
    write = false                      # true: sheetkeeper sets the Tier; false: a finding says
                                       # where the typed Tier differs from the rule's

    [churn]                            # "At risk": no purchase for over `factor` times the
    factor = 2                         # customer's usual gap (the median), at least `min_days`,
    min_days = 30                      # once they have `min_orders` purchases
    min_orders = 3

    [snapshots]
    at = "02:00"                       # nightly, local time: statuses and snapshots
    keep_daily = 7
    keep_weekly = 4
    keep_monthly = 12

    [[watch]]                          # a folder (its .xlsx files) or one workbook
    path = "workbooks"
    template = "crm"                   # optional: recognised from the headers
    sheet = "Customers"                # optional
    region = "CN"                      # optional: overrides [rules] for this path
    date_order = "dmy"

    [[watch]]                          # a Google Sheet, by its key or its address
    spreadsheet = "https://docs.google.com/spreadsheets/d/1AbC…/edit"
    template = "crm"                   # sheet, region, date_order as above

    [google]                           # how to reach Google (only with a spreadsheet watch)
    credentials = "service-account.json"   # a service account's key file; share the sheet
                                           # with its email (or: authorized_user, below)
    authorized_user = "google-user.json"   # OAuth: written by `sheetkeeper google-login`
    poll = 15                          # seconds between Drive change checks (one request)
    api_endpoint = "http://127.0.0.1:8765"  # a local emulator instead of Google (tests)

Relative paths are relative to the file. Unknown keys and wrong types are errors that name the
key and its line. With no file, `EMBEDDED` applies: watch `workbooks/`, template crm, data in
`workbooks/.sheetkeeper` (beside the workbooks, where `sheetkeeper apply` also looks).
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from audit.retention import Retention
from rules.dates import DATE_ORDERS
from rules.customer_value import ChurnRule, PointsRule, TierRule, ValueRules
from rules.status import StatusThresholds
from sheet_templates import BUILTIN, Template, builtin
from sync.errors import SheetkeeperError
from sync.settings import DATA_FOLDER, RuleSettings
from i18n import _

from .watch import workbooks_in

CONFIG_NAME = "sheetkeeper.toml"


class ConfigError(SheetkeeperError):
    """A config file that cannot be used; says where (file, line, key) and why."""

    def __init__(self, path: Path | None, line: int | None, key: str, problem: str):
        where = f"{path}:{line}" if path and line else str(path or "config")
        super().__init__(_("{where}: {key}: {problem}", where=where, key=key, problem=problem))


@dataclass(frozen=True)
class Watch:
    path: Path                      # a folder or a workbook, absolute
    template: str | None = None
    sheet: str | None = None
    region: str | None = None
    date_order: str | None = None

    def covers(self, workbook: Path) -> bool:
        workbook = workbook.resolve()
        return workbook == self.path or workbook.parent == self.path

    @property
    def templates(self) -> list[Template] | None:
        """The template named here, or None: recognise it from the headers."""
        return [builtin(self.template)] if self.template else None

    def workbooks(self) -> list[Path]:
        """The workbooks this watch covers: a folder's, or the one it names (which may not
        exist yet)."""
        return workbooks_in(self.path) if self.path.is_dir() else [self.path]


@dataclass(frozen=True)
class SheetWatch:
    """A Google Sheet to watch: by its key (an address is reduced to its key)."""
    spreadsheet: str
    template: str | None = None
    sheet: str | None = None        # the tab of the list; recognised from the headers if None
    region: str | None = None
    date_order: str | None = None

    @property
    def key(self) -> str:
        return f"gsheet:{self.spreadsheet}"

    @property
    def templates(self) -> list[Template] | None:
        return [builtin(self.template)] if self.template else None


@dataclass(frozen=True)
class GoogleConfig:
    credentials: Path | None = None       # service-account key file
    authorized_user: Path | None = None   # OAuth user token file
    api_endpoint: str | None = None       # a local emulator (python -m tests.fakesheets)
    poll: float = 15.0


@dataclass(frozen=True)
class ServiceConfig:
    source: Path | None             # the file read, or None for the embedded default
    data: Path
    watches: tuple[Watch, ...]
    region: str | None = None
    date_order: str = "auto"
    thresholds: StatusThresholds = StatusThresholds()
    value: ValueRules = ValueRules()
    auto_merge: str = "none"
    debounce: float = 0.3
    poll: float = 0.0
    retry_max: float = 300.0
    excel_poll: float = 30.0
    snapshot_at: dt.time = dt.time(2, 0)
    retention: Retention = field(default_factory=Retention)
    sheets: tuple[SheetWatch, ...] = ()
    google: GoogleConfig = GoogleConfig()

    def watch_for(self, workbook: Path) -> Watch | None:
        return next((w for w in self.watches if w.covers(workbook)), None)

    def sheet_watch(self, key: str) -> SheetWatch | None:
        return next((w for w in self.sheets if w.key == key), None)

    def rule_settings(self, workbook: Path | str | None, today: dt.date) -> RuleSettings:
        """How `workbook` (a path, or a Google Sheet's gsheet:KEY) is judged: its [[watch]]
        entry, then [rules]. The service and the commands run by hand both start here, so
        they judge alike."""
        if isinstance(workbook, str) and workbook.startswith("gsheet:"):
            watch: Watch | SheetWatch = self.sheet_watch(workbook) or Watch(Path("."))
        else:
            watch = (self.watch_for(Path(workbook)) if workbook is not None else None) \
                or Watch(Path("."))
        return RuleSettings(today=today, phone_region=watch.region or self.region,
                            date_order=watch.date_order or self.date_order,
                            thresholds=self.thresholds, value=self.value)


def embedded(cwd: Path | None = None) -> ServiceConfig:
    folder = (cwd or Path.cwd()).resolve() / "workbooks"
    return ServiceConfig(None, folder / DATA_FOLDER, (Watch(folder, template="crm"),))


def find(explicit: Path | None = None, cwd: Path | None = None) -> ServiceConfig:
    """The config named, else ./sheetkeeper.toml, else the embedded default."""
    if explicit is not None:
        return load(explicit)
    candidate = (cwd or Path.cwd()) / CONFIG_NAME
    return load(candidate) if candidate.is_file() else embedded(cwd)


# -- reading and checking -------------------------------------------------------------------

_TYPES: dict[str, dict[str, tuple[type, ...]]] = {
    "": {"data": (str,), "rules": (dict,), "service": (dict,), "snapshots": (dict,),
         "watch": (list,), "google": (dict,), "points": (dict,), "tiers": (dict,),
         "churn": (dict,)},
    "points": {"per": (int, float), "points": (int,), "expire_months": (int,)},
    "tiers": {"vip_spend": (int, float), "vip_orders": (int,), "months": (int,),
              "write": (bool,)},
    "churn": {"factor": (int, float), "min_days": (int,), "min_orders": (int,)},
    "google": {"credentials": (str,), "authorized_user": (str,), "api_endpoint": (str,),
               "poll": (int, float)},
    "rules": {"region": (str,), "date_order": (str,), "new_days": (int,),
              "paused_days": (int,), "churned_days": (int,), "auto_merge": (str,)},
    "service": {"debounce": (int, float), "poll": (int, float), "retry_max": (int, float),
                "excel_poll": (int, float)},
    "snapshots": {"at": (str, dt.time), "keep_daily": (int,), "keep_weekly": (int,),
                  "keep_monthly": (int,)},
    "watch": {"path": (str,), "spreadsheet": (str,), "template": (str,), "sheet": (str,),
              "region": (str,), "date_order": (str,)},
}


def load(path: Path) -> ServiceConfig:
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "(file)", _("no such file; write one (see the README's "
                                                  "'Configuration') or leave it out to use the "
                                                  "embedded default")) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(path, None, "(file)", _("cannot be read ({e})", e=e)) from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"at line (\d+)", str(e))
        raise ConfigError(path, int(m.group(1)) if m else None, "(syntax)", str(e)) from None
    return _Reader(path, source).build(data)


class _Reader:
    def __init__(self, path: Path, source: str):
        self.path, self.lines = path, source.splitlines()
        self.base = path.resolve().parent

    def fail(self, section: str, key: str, problem: str, index: int | None = None) -> ConfigError:
        name = f"{section}.{key}" if section else key
        if index is not None:
            name = f"watch[{index + 1}].{key}"
        return ConfigError(self.path, self._line(section, key, index), name, problem)

    def _line(self, section: str, key: str, index: int | None) -> int | None:
        """Best-effort line of `key` in `[section]` (or the index-th `[[watch]]`)."""
        start, end = 0, len(self.lines)
        if section:
            pattern = (rf"\s*\[\[\s*{section}\s*\]\]" if index is not None
                       else rf"\s*\[\s*{section}\s*\]")
            heads = [i for i, ln in enumerate(self.lines) if re.match(pattern, ln)]
            if heads:
                start = heads[min(index or 0, len(heads) - 1)]
                end = next((i for i in range(start + 1, len(self.lines))
                            if re.match(r"\s*\[", self.lines[i])), len(self.lines))
        else:
            end = next((i for i, ln in enumerate(self.lines) if re.match(r"\s*\[", ln)),
                       len(self.lines))
        for i in range(start, end):
            if re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", self.lines[i]):
                return i + 1
        return start + 1 if section else None

    def checked(self, section: str, table: dict, index: int | None = None) -> dict:
        known = _TYPES[section]
        for key, value in table.items():
            if key not in known:
                raise self.fail(section, key, "unknown key; the keys here are "
                                + ", ".join(sorted(known)), index)
            kinds = known[key]
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                want = " or ".join("a number" if k is float else
                                   {str: "a string", int: "a whole number", dict: "a table",
                                    list: "an array of tables [[watch]]",
                                    dt.time: "a time"}[k] for k in kinds if k is not int
                                   or float not in kinds)
                raise self.fail(section, key, _("must be {want}, not {value}",
                                                want=want, value=repr(value)), index)
        return table

    def build(self, data: dict) -> ServiceConfig:
        top = self.checked("", data)
        rules = self.checked("rules", top.get("rules", {}))
        service = self.checked("service", top.get("service", {}))
        snaps = self.checked("snapshots", top.get("snapshots", {}))
        both = [self.watch(i, w) for i, w in enumerate(top.get("watch", []))]
        watches = tuple(w for w in both if isinstance(w, Watch))
        sheets = tuple(w for w in both if isinstance(w, SheetWatch))
        google = self.google(top.get("google"), bool(sheets))
        if not both:
            raise self.fail("", "watch", _("nothing to watch; add a [[watch]] table with path = "
                                           "\"workbooks\" (a folder) or the path of a workbook"))
        for key in ("debounce", "poll", "retry_max"):
            if service.get(key, 0) < 0:
                raise self.fail("service", key, _("must not be negative"))
        if service.get("excel_poll", 30) <= 0:
            raise self.fail("service", "excel_poll", _("must be a number of seconds above 0"))
        try:
            thresholds = StatusThresholds(
                rules.get("new_days", StatusThresholds.new_days),
                rules.get("paused_days", StatusThresholds.paused_days),
                rules.get("churned_days", StatusThresholds.churned_days))
        except ValueError as e:
            raise self.fail("rules", "new_days", e.args[0]) from None
        try:
            retention = Retention(snaps.get("keep_daily", 7), snaps.get("keep_weekly", 4),
                                  snaps.get("keep_monthly", 12))
        except ValueError as e:
            raise self.fail("snapshots", "keep_daily", e.args[0]) from None
        auto_merge = rules.get("auto_merge", "none")
        if auto_merge not in ("none", "certain"):
            raise self.fail("rules", "auto_merge",
                            _("must be \"none\" or \"certain\", not {auto_merge}",
                              auto_merge=repr(auto_merge)))
        return ServiceConfig(
            source=self.path,
            data=self.resolve(top["data"]) if "data" in top else self.base / DATA_FOLDER,
            watches=watches,
            region=self.region("rules", rules.get("region")),
            date_order=self.date_order("rules", rules.get("date_order", "auto")),
            thresholds=thresholds, value=self.value_rules(top), auto_merge=auto_merge,
            debounce=float(service.get("debounce", 0.3)), poll=float(service.get("poll", 0)),
            retry_max=float(service.get("retry_max", 300)),
            excel_poll=float(service.get("excel_poll", 30)),
            snapshot_at=self.time(snaps.get("at", dt.time(2, 0))), retention=retention,
            sheets=sheets, google=google)

    def value_rules(self, top: dict) -> ValueRules:
        """[points], [tiers], [churn]: how purchases make points, tiers and churn warnings."""
        points = self.checked("points", top.get("points", {}))
        churn = self.checked("churn", top.get("churn", {}))
        for section, table, keys in (("points", points, ("per", "points", "expire_months")),
                                     ("churn", churn, ("factor", "min_days", "min_orders"))):
            for key in keys:
                if key in table and table[key] < (1 if key in ("per", "factor") else 0):
                    raise self.fail(section, key, _("must be a positive number"))
        tiers = None
        if "tiers" in top:
            t = self.checked("tiers", top["tiers"])
            if "vip_spend" not in t and "vip_orders" not in t:
                raise self.fail("tiers", "vip_spend", _("say when a customer is VIP: vip_spend "
                                                        "(spend in the last `months`) and/or "
                                                        "vip_orders"))
            if t.get("months", 12) < 1:
                raise self.fail("tiers", "months", _("must be at least 1"))
            tiers = TierRule(t.get("vip_spend"), t.get("vip_orders"), t.get("months", 12),
                             t.get("write", False))
        return ValueRules(
            PointsRule(float(points.get("per", 100)), points.get("points", 10),
                       points.get("expire_months", 0)),
            tiers,
            ChurnRule(float(churn.get("factor", 2.0)), churn.get("min_days", 30),
                      churn.get("min_orders", 3)))

    def google(self, table: Any, needed: bool) -> GoogleConfig:
        if table is None:
            if needed:
                raise self.fail("", "google", _("a [[watch]] names a spreadsheet, so sheetkeeper "
                                                "needs a [google] table saying how to reach it: "
                                                "credentials = \"service-account.json\" (or "
                                                "authorized_user, or api_endpoint)"))
            return GoogleConfig()
        self.checked("google", table)
        ways = [k for k in ("credentials", "authorized_user", "api_endpoint") if k in table]
        if needed and not ways:
            raise self.fail("google", "credentials", _("is missing: name a service account's key "
                                                       "file (credentials = \"key.json\"), an "
                                                       "OAuth token file (authorized_user), or a "
                                                       "local emulator (api_endpoint)"))
        if len(ways) > 1:
            raise self.fail("google", ways[1], _("give one way to reach Google, not both {value} "
                                                 "and {value2}", value=ways[0], value2=ways[1]))
        endpoint = table.get("api_endpoint")
        if endpoint is not None and not endpoint.startswith(
                ("http://127.", "http://localhost", "http://[::1]")):
            raise self.fail("google", "api_endpoint", _("only a local emulator on this machine "
                                                        "(http://127.0.0.1:PORT) is accepted; "
                                                        "for Google itself use credentials"))
        poll = table.get("poll", 15)
        if poll <= 0:
            raise self.fail("google", "poll", _("must be a number of seconds above 0"))
        return GoogleConfig(
            credentials=self.resolve(table["credentials"]) if "credentials" in table else None,
            authorized_user=self.resolve(table["authorized_user"])
            if "authorized_user" in table else None,
            api_endpoint=endpoint, poll=float(poll))

    def watch(self, index: int, table: Any) -> Watch | SheetWatch:
        if not isinstance(table, dict):
            raise self.fail("", "watch", _("must be an array of tables: [[watch]] then path = …"))
        self.checked("watch", table, index)
        if "path" not in table and "spreadsheet" not in table:
            raise self.fail("watch", "path", _("is missing: the folder or workbook to watch (or "
                                               "spreadsheet = a Google Sheet's key or address)"), index)
        if "path" in table and "spreadsheet" in table:
            raise self.fail("watch", "spreadsheet", _("a [[watch]] is a path or a spreadsheet, "
                                                      "not both; give each its own [[watch]]"), index)
        template = table.get("template")
        if template is not None and template not in BUILTIN:
            raise self.fail("watch", "template", f"{template!r} is not a template; use one of "
                            + ", ".join(BUILTIN), index)
        region = table.get("region")
        rules = (table.get("sheet"), self.region("watch", region, index) if region else None,
                 self.date_order("watch", table["date_order"], index)
                 if "date_order" in table else None)
        if "spreadsheet" in table:
            from sync.gsheets.client import GoogleSheetsError, spreadsheet_key
            try:
                key = spreadsheet_key(table["spreadsheet"])
            except GoogleSheetsError as e:
                raise self.fail("watch", "spreadsheet", str(e), index) from None
            return SheetWatch(key, template, *rules)
        return Watch(self.resolve(table["path"]), template, *rules)

    def resolve(self, text: str) -> Path:
        return (self.base / Path(text).expanduser()).resolve()

    def region(self, section: str, value: str | None, index: int | None = None) -> str | None:
        if value is None:
            return None
        import phonenumbers    # only when a region is set: a fifth of the CLI's start-up
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise self.fail(section, "region", _("{value} is not a country code phonenumbers "
                                                 "knows; use two letters such as CN, GB or US",
                                                 value=repr(value)), index)
        return value.upper()

    def date_order(self, section: str, value: str, index: int | None = None) -> str:
        if value not in DATE_ORDERS:
            raise self.fail(section, "date_order", _("must be one of {value}, not {value2}",
                                                     value=', '.join(DATE_ORDERS),
                                                     value2=repr(value)), index)
        return value

    def time(self, value: str | dt.time) -> dt.time:
        if isinstance(value, dt.time):
            return value
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            raise self.fail("snapshots", "at", _("must be a time of day like \"02:00\", not "
                                                 "{value}", value=repr(value))) from None
