"""`sheetkeeper doctor gsheet:KEY`: what a team runs on day one, before the service. Each thing a
Google Sheet needs is looked at on its own and said as a `Check` (passed, failed, or could not be
looked at because something before it failed), with what to do about a failure:

    1. the credentials file: there, readable, which kind (a service account's key, a person's
       sign-in from `google-login`), whose; and that Google accepts the sign-in
    2. the Sheets API answers            (SERVICE_DISABLED: Google's own console link)
    3. the Drive API answers             (and says whose account this is)
    4. the sheet is shared with the account, with edit rights (Drive's capabilities.canEdit)
    5. the template's tabs are there     (missing: `install … --upgrade` adds them)
    6. the sheet's locale                (only said: formulas typed there use `,` or `;`)
    7. its size against Drive's 10 MB export cap (only a warning: snapshots keep the values)
    8. the quota the service would use at the configured poll

A failure does not hide what can still be looked at: with the Drive API off, the Sheets API,
the tabs, locale and size are still looked at. Everything goes through the client the service
uses (sync.gsheets.client), so what passes here is what the service meets: five requests (the
spreadsheet, Drive's about and files.get, the tab list, one values:batchGet of every tab), and
the .xlsx export only when the sheet is big enough for its size to matter.

Pure where it can be: the file's kind, the locale's separator, the size estimate and the quota
are worked out from values; the requests are made in `diagnose`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from sheet_templates import Template, templates_or_builtin
from i18n import Message, _, _n

from ..errors import (GoogleApiDisabled, GoogleNoAccess, GoogleRefused, GoogleSheetsError,
                      GoogleSignInRefused, NotAGoogleSheet, TableLayoutError)
from ..header import HEADER_SEARCH_ROWS, best_header, layout_for
from .client import GoogleSheet, connect, drive_account, drive_file, spreadsheet_key
from .install import tab_playing
from .quota import LIMITS

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
EXPORT_CAP = 10_000_000        # bytes: Drive exports a Google file of at most 10 MB
# Past this share of the cap the estimate is not trusted: Drive is asked for the export itself.
ASK_DRIVE_AT = 0.5
# A cycle's requests (sync.gsheets.target): the tab list, one values:batchGet, and where it
# writes the guard's batchGet and one values:batchUpdate.
CYCLE_READS, CYCLE_WRITES = 3, 1
# Tabs the cycle works with (missing: a failure); the rest install lays out for people.
CYCLE_ROLES = ("lists", "review", "merged")
OTHER_ROLES = ("dictionary", "dashboard")


@dataclass(frozen=True)
class Check:
    """One thing looked at. `ok`: True passed, False failed, None not looked at (something it
    needs failed before it). `warning`: passed, with something worth knowing (`fix` says
    what)."""
    name: str
    ok: bool | None
    detail: str
    fix: str = ""
    warning: bool = False


def failed(checks: Sequence[Check]) -> bool:
    return any(c.ok is False for c in checks)


# -- 1. the credentials file -------------------------------------------------------------------

@dataclass(frozen=True)
class Credentials:
    kind: str               # "service_account", "authorized_user", "emulator"
    email: str | None
    path: Path | None


def credentials_file(credentials: Path | None, authorized_user: Path | None,
                     api_endpoint: str | None) -> tuple[Check, Credentials | None]:
    """What the file named is (looked at here, not yet shown to Google)."""
    name = _("Credentials")
    if credentials is None and authorized_user is None:
        if api_endpoint:
            return (Check(name, True, _("none needed: a local emulator at {url}",
                                        url=api_endpoint)),
                    Credentials("emulator", None, None))
        return Check(name, False, _("no credentials named"),
                     _("pass --credentials KEY.json (a service account's key) or "
                       "--authorized-user TOKEN.json (from `sheetkeeper google-login`), or name "
                       "one in sheetkeeper.toml's [google]")), None
    path = Path(credentials if credentials is not None else authorized_user)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Check(name, False, _("{path}: no such file", path=str(path)),
                     _("check the path; a service account's key comes from Google Cloud → IAM & "
                       "Admin → Service accounts → Keys → Add key → JSON")), None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return Check(name, False, _("{path}: cannot be read as JSON ({e})", path=str(path), e=e),
                     _("download the key again, or run `sheetkeeper google-login` again")), None
    kind = credentials_kind(info)
    wanted = "service_account" if credentials is not None else "authorized_user"
    if kind == "oauth_client":
        return Check(name, False, _("{path} is an OAuth client file, not a sign-in",
                                    path=str(path)),
                     _("run `sheetkeeper google-login --client-secret {path} --to "
                       "google-user.json`, then use --authorized-user google-user.json",
                       path=str(path))), None
    if kind is None:
        return Check(name, False, _("{path} is neither a service account's key nor a sign-in "
                                    "from `sheetkeeper google-login`", path=str(path)),
                     _("download a JSON key for a service account, or run `sheetkeeper "
                       "google-login`")), None
    if kind != wanted:
        option = "--credentials" if kind == "service_account" else "--authorized-user"
        return Check(name, False, _("{path} is a {kind}, named as the other kind",
                                    path=str(path), kind=_kind_words(kind)),
                     _("name it with {option} (in sheetkeeper.toml: {key})", option=option,
                       key="credentials" if kind == "service_account" else "authorized_user")
                     ), None
    email = info.get("client_email") if kind == "service_account" else (info.get("account")
                                                                        or None)
    return Check(name, True, _("{path}: a {kind}{who}", path=str(path), kind=_kind_words(kind),
                               who=f" ({email})" if email else "")), \
        Credentials(kind, email, path)


def credentials_kind(info: Any) -> str | None:
    """Which kind of Google credentials file this is: "service_account" (a key: client_email
    and private_key), "authorized_user" (a person's sign-in: a refresh token, as
    `google-login` or gcloud writes it), "oauth_client" (the client file google-login starts
    from, given in its place), or None."""
    if not isinstance(info, dict):
        return None
    if info.get("type") == "service_account" and info.get("client_email"):
        return "service_account"
    if info.get("refresh_token") and info.get("client_id"):
        return "authorized_user"
    if isinstance(info.get("installed") or info.get("web"), dict):
        return "oauth_client"
    return None


def _kind_words(kind: str) -> Message:
    return (_("service account's key") if kind == "service_account"
            else _("person's sign-in (OAuth)"))


# -- 6. locale ---------------------------------------------------------------------------------

def separator(locale: str) -> str | None:
    """The argument separator formulas typed in a spreadsheet of `locale` use: `;` where the
    locale writes decimals with a comma (de_DE, fr_FR, pt_BR…), else `,`; None for a locale
    Babel does not know."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import get_decimal_symbol
    try:
        return ";" if get_decimal_symbol(Locale.parse(locale)) == "," else ","
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def locale_check(locale: str | None) -> Check:
    name = _("Locale")
    if not locale:
        return Check(name, True, _("Google did not say the spreadsheet's locale"))
    sep = separator(locale)
    if sep is None:
        return Check(name, True, _("{locale} (not a locale sheetkeeper knows the separator of)",
                                   locale=locale))
    return Check(name, True, _("{locale}: formulas typed in this sheet separate arguments with "
                               "`{sep}`", locale=locale, sep=sep))


# -- 7. size -----------------------------------------------------------------------------------

def estimated_export(values: Mapping[str, Sequence[Sequence[Any]]]) -> tuple[int, int]:
    """(cells with something in them, the estimated size in bytes of the .xlsx export). An
    .xlsx is its cells' text, zipped; measured on a customer list, about as many bytes as
    the values' UTF-8 text has, so that is the estimate."""
    cells = size = 0
    for rows in values.values():
        for row in rows:
            for v in row:
                if v not in (None, ""):
                    cells += 1
                    size += len(str(v).encode("utf-8"))
    return cells, size


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f}" if n >= 100_000 else "< 0.1"


def size_check(cells: int, estimate: int, exported: int | None = None,
               too_big: bool = False) -> Check:
    """Against Drive's export cap: `exported`, the size of the export Drive gave, or
    `too_big`, Drive refused it as over the cap; else the estimate alone."""
    name = _("Size")
    over_fix = _("snapshots keep the values anyway; the .xlsx copy beside each snapshot may be "
                 "skipped (Drive exports at most 10 MB)")
    if too_big:
        return Check(name, True, _("{cells} cells; Drive refused its .xlsx export as over 10 MB",
                                   cells=cells), over_fix, warning=True)
    if exported is not None:
        return Check(name, True, _("{cells} cells; its .xlsx export is {mb} MB of Drive's 10 MB",
                                   cells=cells, mb=_mb(exported)),
                     over_fix if exported > EXPORT_CAP * 0.8 else "",
                     warning=exported > EXPORT_CAP * 0.8)
    if estimate > EXPORT_CAP:
        return Check(name, True, _("{cells} cells, about {mb} MB: over Drive's 10 MB export cap",
                                   cells=cells, mb=_mb(estimate)), over_fix, warning=True)
    return Check(name, True, _("{cells} cells, about {mb} MB of Drive's 10 MB export cap",
                               cells=cells, mb=_mb(estimate)))


# -- 8. quota ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuotaUse:
    polls: float            # Drive change checks a minute, every sheet on the account
    reads: float            # Sheets reads a minute, every sheet changed at every poll
    writes: float
    sheets: int

    @property
    def within(self) -> bool:
        return (self.reads <= LIMITS["read"] and self.writes <= LIMITS["write"]
                and self.polls <= LIMITS["drive"])

    @property
    def slowest_poll(self) -> int:
        """The shortest poll (whole seconds) that keeps a minute of cycles on every sheet
        within Google's per-minute quota."""
        return math.ceil(60 * self.sheets * max(CYCLE_READS / LIMITS["read"],
                                                CYCLE_WRITES / LIMITS["write"]))


def quota_use(poll: float, sheets: int = 1) -> QuotaUse:
    """What `sheets` sheets on one account polled every `poll` seconds ask of Google a minute:
    a Drive files.get each poll, and at worst (a sheet edited all the time, a change at every
    poll) a cycle each poll (sync.gsheets.target: 3 reads, 1 write)."""
    per_sheet = 60 / poll
    return QuotaUse(per_sheet * sheets, per_sheet * sheets * CYCLE_READS,
                    per_sheet * sheets * CYCLE_WRITES, sheets)


def quota_check(poll: float, sheets: int = 1) -> Check:
    use = quota_use(poll, sheets)
    name = _("Quota")
    said = _n("a poll every {poll} s on {n} sheet: {polls} Drive change checks a minute; "
              "edited all the time, {reads} reads and {writes} writes a minute, of Google's "
              "{read_limit} and {write_limit} per user",
              "a poll every {poll} s on {n} sheets of one account: {polls} Drive change checks "
              "a minute; all edited all the time, {reads} reads and {writes} writes a minute, of "
              "Google's {read_limit} and {write_limit} per user", sheets, poll=f"{poll:g}",
              n=sheets, polls=f"{use.polls:g}", reads=f"{use.reads:g}", writes=f"{use.writes:g}",
              read_limit=LIMITS["read"], write_limit=LIMITS["write"])
    if use.within:
        return Check(name, True, said)
    return Check(name, True, said,
                 _("sheetkeeper keeps within Google's quota by making cycles wait their turn, so "
                   "busy sheets are cleaned later than every poll; set [google] poll = {poll} "
                   "or more in sheetkeeper.toml to keep up", poll=use.slowest_poll),
                 warning=True)


# -- 5. template tabs --------------------------------------------------------------------------

def template_check(key: str, tops: Mapping[str, Sequence[Sequence[Any]]],
                   templates: Sequence[Template]) -> Check:
    """The list's tab (a header of one of `templates` in its top rows), and the tabs the
    template adds beside it, in any of its languages."""
    name = _("Template tabs")
    titles = list(tops)
    preferred = {n for t in templates for n in t.sheet_names.values()}
    found = [(t, m) for t in sorted(titles, key=lambda t: t not in preferred)
             if (m := best_header(list(tops[t])[:HEADER_SEARCH_ROWS], templates))]
    if not found:
        names = "/".join(t.name for t in templates)
        return Check(name, False, _("no tab has the header row of a template ({names})",
                                    names=names),
                     _("run `sheetkeeper install {template} --to gsheet:{key}` (or --upgrade, "
                       "where the list is there under other headers)",
                       template=templates[0].name, key=key))
    tab, match = max(found, key=lambda f: f[1].matched)
    template = match.template
    try:
        lang = layout_for(list(tops[tab])[match.row], match.row + 1, template).lang
    except TableLayoutError:
        lang = "en"         # said by the cycle; here only the names of the tabs to add
    missing, extra = [], []
    for role in CYCLE_ROLES + OTHER_ROLES:
        if tab_playing(role, titles, [template]) is None:
            (missing if role in CYCLE_ROLES else extra).append(template.words["tabs"][role][lang])
    for g in template.ledgers:
        if not any(n in titles for n in g.sheet_names.values()):
            missing.append(g.sheet_names[lang])
    upgrade = _("run `sheetkeeper install {template} --to gsheet:{key} --upgrade` (it adds what "
                "is missing and changes none of the team's data)", template=template.name,
                key=key)
    where = _("the list is on '{tab}' ({template} template, header in row {row})", tab=tab,
              template=template.name, row=match.row + 1)
    if missing:
        return Check(name, False, _("{where}; missing: {tabs}", where=where,
                                    tabs=", ".join(missing + extra)), upgrade)
    if extra:
        return Check(name, True, _("{where}; missing, not needed by the service: {tabs}",
                                   where=where, tabs=", ".join(extra)), upgrade, warning=True)
    return Check(name, True, _("{where}, with every tab of the template", where=where))


# -- the requests ------------------------------------------------------------------------------

def _text(e: BaseException) -> Any:
    """An error's message, still a Message where it is one (said in the reader's language)."""
    return e.args[0] if len(e.args) == 1 else str(e)


def diagnose(ref: str, credentials: Path | None = None, authorized_user: Path | None = None,
             api_endpoint: str | None = None, poll: float = 15.0, sheets: int = 1,
             templates: Sequence[Template] | None = None) -> list[Check]:
    """Every check on the Google Sheet `ref` names, in order (see the module's docstring)."""
    key = spreadsheet_key(ref)
    cred_check, cred = credentials_file(credentials, authorized_user, api_endpoint)
    checks: dict[str, Check] = {"credentials": cred_check}
    names = {"sheets": _("Sheets API"), "drive": _("Drive API"), "shared": _("Shared"),
             "tabs": _("Template tabs"), "locale": _("Locale"), "size": _("Size")}
    client = None
    if cred is not None:
        try:
            client, _account = connect(credentials, authorized_user, api_endpoint)
        except GoogleSheetsError as e:
            checks["credentials"] = Check(cred_check.name, False, _text(e),
                                          _("download a new key, or run `sheetkeeper "
                                            "google-login` again"))
    if client is None:
        unchecked = _("not looked at: the credentials failed")
        return [checks["credentials"], *(Check(n, None, unchecked) for n in names.values()),
                quota_check(poll, sheets)]

    email = cred.email
    sheet, refused = None, None
    try:
        sheet = GoogleSheet.open(client, key, email)
        checks["sheets"] = Check(names["sheets"], True, _("answers"))
    except GoogleSignInRefused as e:
        return _sign_in_refused(checks["credentials"], cred, e, names, poll, sheets)
    except GoogleApiDisabled as e:
        checks["sheets"] = Check(names["sheets"], False, _text(e),
                                 _("enable it at the link above, wait a few minutes, then run "
                                   "`sheetkeeper doctor` again"))
    except (GoogleNoAccess, NotAGoogleSheet) as e:
        refused = e       # the API answered: it is the sheet that is refused (see Shared)
        checks["sheets"] = Check(names["sheets"], True, _("answers"))
    except GoogleSheetsError as e:
        checks["sheets"] = Check(names["sheets"], False, _text(e),
                                 _("run `sheetkeeper doctor` again in a while"))

    drive_ok = False
    try:
        email = drive_account(client) or email
        drive_ok = True
        checks["drive"] = Check(names["drive"], True,
                                _("answers; sheetkeeper is signed in as {email}",
                                  email=email or "?"))
    except GoogleSignInRefused as e:
        return _sign_in_refused(checks["credentials"], cred, e, names, poll, sheets)
    except GoogleApiDisabled as e:
        checks["drive"] = Check(names["drive"], False, _text(e),
                                _("enable it at the link above (the service polls the sheet "
                                  "through Drive and snapshots export through it), wait a few "
                                  "minutes, then run `sheetkeeper doctor` again"))
    except GoogleSheetsError as e:
        checks["drive"] = Check(names["drive"], False, _text(e),
                                _("run `sheetkeeper doctor` again in a while"))
    if cred.kind == "service_account" and cred.email:
        email = cred.email

    checks["shared"] = _shared(client, key, email, drive_ok, sheet, refused, names["shared"])
    if sheet is None:
        why = _("not looked at: the spreadsheet could not be opened")
        for role in ("tabs", "locale", "size"):
            checks[role] = Check(names[role], None, why)
    else:
        checks.update(_inside(sheet, key, templates_or_builtin(templates), names))
    return [*checks.values(), quota_check(poll, sheets)]


def _sign_in_refused(check: Check, cred: Credentials, e: GoogleSignInRefused,
                     names: Mapping[str, Message], poll: float, sheets: int) -> list[Check]:
    """Google refused the sign-in itself (an expired or revoked refresh token, a deleted key):
    nothing else can be looked at until the account signs in anew. The error says how."""
    unchecked = _("not looked at: Google refused the sign-in")
    fix = (_("as it says; and publish the OAuth app (Google Cloud → APIs & Services → OAuth "
             "consent screen → Publish app), since an app left in Testing has its sign-ins "
             "expire after 7 days") if cred.kind == "authorized_user" else "")
    return [Check(check.name, False, _text(e), fix),
            *(Check(n, None, unchecked) for n in names.values()), quota_check(poll, sheets)]


def _shared(client, key: str, email: str | None, drive_ok: bool, sheet: GoogleSheet | None,
            refused: GoogleRefused | None, name: Message) -> Check:
    """Whether the account may open and edit the sheet: Drive's files.get (capabilities.canEdit)
    where Drive answers, else what the Sheets API said."""
    who = email or _("the account sheetkeeper uses")
    share = _("open the sheet, Share, and add {who} as Editor", who=who)
    if drive_ok:
        try:
            meta = drive_file(client, key)
        except GoogleNoAccess:
            return Check(name, False, _("spreadsheet {key} is not shared with {who} (or there is "
                                        "no such spreadsheet)", key=key, who=who), share)
        except GoogleSheetsError as e:
            return Check(name, False, _text(e), _("run `sheetkeeper doctor` again in a while"))
        if meta.get("mimeType", SPREADSHEET_MIME) != SPREADSHEET_MIME:
            return Check(name, False, _("'{title}' is a file in Drive, not a Google Sheet "
                                        "({mime})", title=meta.get("name", key),
                                        mime=meta.get("mimeType")),
                         _("open it, File → Save as Google Sheets, then use the new sheet's "
                           "address"))
        if not (meta.get("capabilities") or {}).get("canEdit", False):
            return Check(name, False, _("'{title}' is shared with {who} to read only",
                                        title=meta.get("name", key), who=who),
                         _("open the sheet, Share, and make {who} an Editor", who=who))
        return Check(name, True, _("'{title}' is shared with {who}, who may edit it",
                                   title=meta.get("name", key), who=who))
    if refused is not None:
        fix = (_("open it, File → Save as Google Sheets, then use the new sheet's address")
               if isinstance(refused, NotAGoogleSheet) else share)
        return Check(name, False, _text(refused), fix)
    if sheet is not None:
        return Check(name, True, _("the Sheets API opens it for {who}; whether it may edit "
                                   "needs the Drive API to tell", who=who),
                     _("enable the Drive API, then run `sheetkeeper doctor` again"),
                     warning=True)
    return Check(name, None, _("not looked at: neither API answered"))


def _inside(sheet: GoogleSheet, key: str, templates: Sequence[Template],
            names: Mapping[str, Message]) -> dict[str, Check]:
    """The tabs, locale and size: the tab list and one read of every grid tab, and Drive's
    export where the sheet is big enough for its size to matter."""
    out = {"locale": locale_check(sheet.locale)}
    try:
        grids = sheet.tabs()
        values = sheet.read(grids) if grids else {}
    except GoogleSheetsError as e:
        for role in ("tabs", "size"):
            out[role] = Check(names[role], False, _text(e),
                              _("run `sheetkeeper doctor` again in a while"))
        return {"tabs": out["tabs"], "locale": out["locale"], "size": out["size"]}
    tabs = template_check(key, values, templates)
    cells, estimate = estimated_export(values)
    size = size_check(cells, estimate)
    if estimate >= EXPORT_CAP * ASK_DRIVE_AT:
        try:
            size = size_check(cells, estimate, exported=len(sheet.export_xlsx()))
        except GoogleRefused as e:
            if e.reason == "exportSizeLimitExceeded":
                size = size_check(cells, estimate, too_big=True)
        except GoogleSheetsError:
            pass                    # the estimate stands
    return {"tabs": tabs, "locale": out["locale"], "size": size}
