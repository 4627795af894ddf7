"""Google Sheets through gspread: the one module that imports it, and where its errors become
sheetkeeper's own.

- Every request goes through `RetryingHTTPClient.request`, the seam: there, every error of
  gspread, google-auth and requests becomes one of sync.errors' Google errors (the httpx
  lesson): GoogleUnavailable when retries are spent, GoogleRefused for a refusal, in Google's
  own words, and the refusals a person acts on (GoogleNoAccess, GoogleApiDisabled,
  NotAGoogleSheet, GoogleSignInRefused). None escapes sync/; gspread never sees an error it would turn into
  the bare PermissionError it raises for any 403 on open.
- Requests are retried by tenacity on 429, 5xx, dropped connections and a token refresh that got
  no answer, with exponential backoff and jitter, never sooner than Google's Retry-After, and
  bounded in attempts and time. (gspread 6.2.1's BackOffHTTPClient never gives up; it is not
  used.)
- Every request, a token refresh included, has a connect and a read timeout (gspread's default
  is none: one stalled connection would wait for ever); a request that times out is transient
  like a dropped connection, and retried.
- Every request first takes its place in the client's quota budget (sync.gsheets.quota): one
  client, so one budget, serves every sheet the service watches on its account. A 429 spends
  the budget of its kind until Google's Retry-After, or without one for a whole minute.
- A read is one values:batchGet of every tab a cycle needs, unformatted (dates as serial
  numbers); Google's trimming of trailing empty cells and rows is undone, so every row has the
  header's width.
- A write first re-reads the rows it is about to change (one batchGet) and leaves every row
  that is not exactly as the cycle read it: Google has no compare-and-swap, a person's edit must
  never be overwritten, and a sort or an inserted row must never make a write land on another
  person's row (a cell-level check would let "Paused" meant for one row land on another row
  that also said "Active"). The rest go in one values:batchUpdate, RAW, so "+8613800138000" stays
  text instead of being parsed into a number.
- The cheap change signal is Drive's files.get with fields modifiedTime and version.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import google.auth.exceptions as auth_errors
import gspread
import requests
import tenacity
from gspread.http_client import HTTPClient
from gspread.utils import ExportFormat, ValueInputOption, ValueRenderOption, extract_id_from_url
from i18n import _

from ..errors import (GoogleApiDisabled, GoogleNoAccess, GoogleRefused, GoogleSheetsError,
                      GoogleSignInRefused, GoogleUnavailable, NotAGoogleSheet, WriteFailed)
from ..cells import same_value
from sheet_templates.references import column_letter
from ..cells import CellWrite
from .bodies import quoted_tab, row_ranges
from .quota import QuotaBudget, kind_of

RETRYABLE = frozenset({429, 500, 502, 503, 504})
# Seconds to make a connection, and to wait for the next bytes of an answer (not the whole
# answer): Google's own Python client waits 60 s for an answer; a big values:batchGet starts
# answering well within that.
TIMEOUTS = (10.0, 60.0)
GOOGLE_HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
# The guard's ranges travel in a GET's address, 35-60 bytes each once encoded (a title in
# hanzi is 9 bytes a character). Google documents no limit, but its own API client sends a GET
# whose address is longer than 2,048 characters as a POST instead (google-api-dotnet-client,
# BaseClientService.DefaultMaxUrlLength = 2048): past that, the guard re-reads the whole tabs
# instead (still one request).
MAX_URL = 2048
VALUES_BATCH_GET = "https://sheets.googleapis.com/v4/spreadsheets/{}/values:batchGet"
SCOPES = ["https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive"]
API_TITLES = {"sheets.googleapis.com": "Google Sheets API",
              "drive.googleapis.com": "Google Drive API"}
DRIVE_ABOUT = "https://www.googleapis.com/drive/v3/about"
CONSOLE = "https://console.developers.google.com/apis/api/{}/overview?project={}"


def _transient(exc: BaseException) -> bool:
    """Worth sending again: a 429 or 5xx, no answer at all, or a token refresh that got none
    (or got Google's own 5xx, which google-auth marks retryable)."""
    if isinstance(exc, gspread.exceptions.APIError):
        return exc.response.status_code in RETRYABLE
    if isinstance(exc, auth_errors.RefreshError):
        return exc.retryable
    return isinstance(exc, (requests.ConnectionError, requests.Timeout,
                            requests.exceptions.ChunkedEncodingError,
                            auth_errors.TransportError))


def _retry_after(exc: BaseException | None) -> float:
    if isinstance(exc, gspread.exceptions.APIError):
        header = exc.response.headers.get("Retry-After", "")
        try:
            return float(header)
        except ValueError:
            return 0.0
    return 0.0


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client, every request retried the way Google asks, and every error that
    is left translated into sheetkeeper's own (`translated`)."""

    stop: Any = tenacity.stop_after_attempt(6) | tenacity.stop_after_delay(90)
    backoff: Any = tenacity.wait_random_exponential(multiplier=0.5, max=30)
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    token_file: Path | None = None      # a person's sign-in: where google-login keeps it
    timeouts: tuple[float, float] = TIMEOUTS   # (connect, read), see TIMEOUTS

    paced: bool = True      # Google's quota kept (False: a local emulator, see OtherHost)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.timeout = self.timeouts    # gspread's own (None: no timeout) passed to requests
        self.budget: QuotaBudget | None = QuotaBudget() if self.paced else None

    def request(self, *args: Any, **kwargs: Any):
        def wait(state: tenacity.RetryCallState) -> float:
            return max(self.backoff(state), _retry_after(state.outcome.exception()))

        retrying = tenacity.Retrying(stop=self.stop, wait=wait,
                                     retry=tenacity.retry_if_exception(_transient),
                                     sleep=self.sleep, reraise=True)
        try:
            return retrying(self._paced, *args, **kwargs)
        except (gspread.exceptions.GSpreadException, requests.RequestException,
                auth_errors.GoogleAuthError) as e:
            raise translated(e, self.auth, self.token_file) from None


    def _paced(self, method: str, endpoint: str, *args: Any, **kwargs: Any):
        """One attempt, once the budget has room for it."""
        budget = self.budget
        if budget is None:
            return super().request(method, endpoint, *args, **kwargs)
        kind = kind_of(method, endpoint)
        budget.take(kind, self.sleep)
        try:
            return super().request(method, endpoint, *args, **kwargs)
        except gspread.exceptions.APIError as e:
            if e.response.status_code == 429:
                budget.exhausted(kind, _retry_after(e))
            raise


def translated(e: BaseException, credentials: Any = None,
               token_file: Path | None = None) -> GoogleSheetsError:
    """sheetkeeper's own error for an error of gspread, google-auth or requests that retries
    did not (or could not) cure."""
    if _transient(e):
        return GoogleUnavailable(
            _("Google Sheets kept failing ({value}) after every retry; nothing more was sent. "
              "sheetkeeper tries again on the next cycle", value=_describe(e)))
    if isinstance(e, gspread.exceptions.APIError):
        return _refusal(e)
    if isinstance(e, auth_errors.RefreshError):
        return _sign_in_refused(e, credentials, token_file)
    if isinstance(e, auth_errors.GoogleAuthError):
        return GoogleSignInRefused(_("Google's sign-in could not be used ({e}); check the "
                                     "credentials named in the config", e=e))
    return GoogleSheetsError(_("the request to Google could not be made ({value}: {e})",
                               value=_describe(e), e=e))


def _refusal(e: gspread.exceptions.APIError) -> GoogleRefused:
    """A refusal in Google's own words, of the kind a person can act on where it is one."""
    error = e.error if isinstance(e.error, Mapping) else {}
    code, status = e.response.status_code, str(error.get("status") or "")
    message = str(error.get("message") or "").strip()
    details, info, reason = _why(error)
    said = f"{code} {status}: {message}".replace(" :", ":")
    if reason == "SERVICE_DISABLED":
        return _api_disabled(info.get("metadata") or {}, details, code, status)
    if code == 404 or (code == 403 and status == "PERMISSION_DENIED" and not reason):
        return GoogleNoAccess(_("Google refused it ({said}): the account sheetkeeper uses needs "
                                "Editor access to the spreadsheet",
                                said=said), code, status, reason)
    if code == 400 and status == "FAILED_PRECONDITION":
        # Google's answer to the Sheets API on an Office file stored in Drive: "This
        # operation is not supported for this document".
        return NotAGoogleSheet(_("Google refused it ({said})", said=said), code, status, reason)
    return GoogleRefused(_("Google refused the request ({said}); put right what Google names, "
                           "then run again", said=said), code, status, reason)


def _why(error: Mapping) -> tuple[list[Mapping], Mapping, str]:
    """A refusal's details, the first of them that gives a reason (Google's ErrorInfo), and
    that reason. Drive v3 gives its reason (exportSizeLimitExceeded, …) in the older `errors`
    list only."""
    details = [d for d in error.get("details") or [] if isinstance(d, Mapping)]
    info = next((d for d in details if d.get("reason")), {})
    legacy = next((d for d in error.get("errors") or []
                   if isinstance(d, Mapping) and d.get("reason")), {})
    return details, info, str(info.get("reason") or legacy.get("reason") or "")


def _api_disabled(meta: Mapping[str, Any], details: list, code: int,
                  status: str) -> GoogleApiDisabled:
    """Which API, for which project, and the console page that enables it (Google's own link:
    the ErrorInfo's activationUrl, else the Help link)."""
    service = str(meta.get("service") or "")
    title = str(meta.get("serviceTitle") or API_TITLES.get(service, service or "API"))
    project = str(meta.get("containerInfo") or "") or \
        str(meta.get("consumer") or "").removeprefix("projects/")
    links = [link.get("url") for d in details for link in d.get("links") or []
             if isinstance(link, Mapping) and link.get("url")]
    url = meta.get("activationUrl") or (links[0] if links else CONSOLE.format(service, project))
    return GoogleApiDisabled(
        _("the {title} is not enabled in the Google Cloud project of sheetkeeper's account (once "
          "enabled, give it a few minutes); enable the {title} for project {project}: {url}",
          title=title, project=project, url=url), code, status, "SERVICE_DISABLED")


def _sign_in_refused(e: auth_errors.RefreshError, credentials: Any,
                     token_file: Path | None) -> GoogleSignInRefused:
    detail = str(e.args[0]) if e.args else str(e)
    from google.oauth2 import service_account
    if isinstance(credentials, service_account.Credentials):
        return GoogleSignInRefused(
            _("Google refused the service account's key ({detail}): it was deleted or disabled, "
              "or the account was; create a new key (Google Cloud → IAM & Admin → Service "
              "accounts → Keys → Add key → JSON) and name it in the config", detail=detail),
            reason="invalid_grant")
    return GoogleSignInRefused(
        _("Google refused sheetkeeper's sign-in ({detail}): it expired or was revoked (an OAuth "
          "app left in Testing has its sign-ins expire after 7 days); run `sheetkeeper "
          "google-login --client-secret CLIENT.json --to {value}` again",
          detail=detail, value=token_file or 'TOKEN.json'),
        reason="invalid_grant")


def _describe(e: BaseException) -> str:
    if isinstance(e, gspread.exceptions.APIError):
        return f"{e.response.status_code} {e.error.get('status', '')}".strip()
    if isinstance(e, auth_errors.RefreshError):
        return "the token refresh got no answer"
    return type(e).__name__


class OtherHost:
    """Mixed into a gspread HTTP client: Google's two hosts rewritten to `base`, a local
    emulator of the Sheets and Drive APIs (`python -m tests.fakesheets`). Every gspread call
    goes through `request`, so nothing else needs to change. Not paced by Google's quota: the
    emulator keeps one only when a test gives it one (and gives the client a budget to match),
    and the tests' thousands of requests would otherwise take real minutes."""

    base = ""
    paced = False

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any):
        for host in GOOGLE_HOSTS:
            if endpoint.startswith(host):
                endpoint = self.base.rstrip("/") + endpoint[len(host):]
                break
        return super().request(method, endpoint, *args, **kwargs)


class EndpointHTTPClient(OtherHost, RetryingHTTPClient):
    """The retrying client, at a local emulator."""


def endpoint_client(url: str) -> gspread.Client:
    """A client for an emulator at `url`; it needs no Google account (a fixed token)."""
    from google.oauth2.credentials import Credentials
    return gspread.Client(Credentials(token="local-emulator"), http_client=_at_endpoint(url))


def _at_endpoint(url: str) -> type[EndpointHTTPClient]:
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise GoogleSheetsError(_("--api-endpoint {url}: only a local emulator on this machine "
                                  "(http://127.0.0.1:PORT) is accepted; for Google itself use "
                                  "--credentials", url=url))
    return type("LocalEndpointHTTPClient", (EndpointHTTPClient,), {"base": url})


# -- opening -----------------------------------------------------------------------------------

def spreadsheet_key(ref: str) -> str:
    """`gsheet:KEY`, a key, or the sheet's URL."""
    ref = ref.strip()
    if ref.startswith("gsheet:"):
        ref = ref[len("gsheet:"):]
    if ref.startswith("http"):
        try:
            return extract_id_from_url(ref)
        except gspread.exceptions.NoValidUrlKeyFound:
            raise GoogleSheetsError(_("{ref} is not the address of a Google Sheet; copy it from "
                                      "the browser's address bar while the sheet is open",
                                      ref=ref)) from None
    if not ref:
        raise GoogleSheetsError(_("no spreadsheet named; give its key or URL (gsheet:KEY)"))
    return ref


def service_account_client(key_file: Path,
                           http_client: type[HTTPClient] = RetryingHTTPClient
                           ) -> tuple[gspread.Client, str]:
    """A client authorised by a service-account key file, and the account's email (the address
    the sheet must be shared with)."""
    key_file = Path(key_file)
    try:
        info = json.loads(key_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GoogleSheetsError(
            _("{key_file}: no such key file. Create one in Google Cloud (IAM & Admin → Service "
              "accounts → your account → Keys → Add key → JSON) and name it in the config",
              key_file=key_file)
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise GoogleSheetsError(_("{key_file}: not a readable JSON key file ({e}); download the "
                                  "service account's key again", key_file=key_file, e=e)) from None
    if not isinstance(info, dict) or info.get("type") != "service_account" \
            or "client_email" not in info:
        raise GoogleSheetsError(_("{key_file}: not a service-account key (it has no "
                                  "client_email); download a JSON key for a service account",
                                  key_file=key_file))
    try:
        client = gspread.service_account(filename=str(key_file), http_client=http_client)
    except (ValueError, auth_errors.GoogleAuthError) as e:
        raise GoogleSheetsError(_("{key_file}: the key in it cannot be used ({e}); download a "
                                  "new JSON key for the service account",
                                  key_file=key_file, e=e)) from None
    return client, info["client_email"]


def authorized_user_client(token_file: Path,
                           http_client: type[HTTPClient] = RetryingHTTPClient,
                           token_uri: str | None = None) -> tuple[gspread.Client, str | None]:
    """A client authorised as a person, by the OAuth token file `sheetkeeper google-login`
    wrote (gspread's user flow); google-auth refreshes its access token as it expires, at
    Google's token endpoint (`token_uri`: an emulator's instead). The account's email is not
    in the file."""
    from google.oauth2.credentials import Credentials
    token_file = Path(token_file)
    try:
        info = json.loads(token_file.read_text(encoding="utf-8"))
        credentials = Credentials.from_authorized_user_info(info, SCOPES)
        if token_uri:
            credentials = credentials.with_token_uri(token_uri)
    except FileNotFoundError:
        raise GoogleSheetsError(_("{token_file}: no such token file; run `sheetkeeper "
                                  "google-login --client-secret CLIENT.json --to {token_file}` "
                                  "once, on a machine with a browser",
                                  token_file=token_file)) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise GoogleSheetsError(_("{token_file}: not an OAuth token file ({e}); run `sheetkeeper "
                                  "google-login` again", token_file=token_file, e=e)) from None
    client = gspread.Client(credentials, http_client=http_client)
    client.http_client.token_file = token_file     # named when the sign-in is refused
    return client, None


def connect(credentials: Path | None = None, authorized_user: Path | None = None,
            api_endpoint: str | None = None) -> tuple[gspread.Client, str | None]:
    """A client by whichever one way is given, and the account's email where known."""
    if api_endpoint and authorized_user is not None:
        # A person's sign-in against the emulator, refreshed at its token endpoint too.
        return authorized_user_client(authorized_user, _at_endpoint(api_endpoint),
                                      token_uri=api_endpoint.rstrip("/") + "/token")
    if api_endpoint:
        return endpoint_client(api_endpoint), None
    if credentials is not None:
        return service_account_client(credentials)
    if authorized_user is not None:
        return authorized_user_client(authorized_user)
    raise GoogleSheetsError(_("a Google Sheet needs a way in: --credentials KEY.json (a service "
                              "account's key file, Google Cloud → IAM & Admin → Service accounts "
                              "→ Keys, with the sheet shared with its email), or [google] in "
                              "sheetkeeper.toml"))


def google_login(client_secret: Path, token_file: Path, port: int = 0) -> Path:
    """gspread's OAuth user flow (a browser signs in once); the token is kept in
    `token_file`, 0600, for the service to use without a browser from then on.

    Consent is asked every time (prompt=consent): Google hands out the refresh token (what
    the service lives on) only at an account's first consent to the app otherwise, so a
    second sign-in (a new machine, a lost or expired token file) would get none."""
    from google_auth_oauthlib.flow import InstalledAppFlow
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error
    from audit.private_file import write_private
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secret), SCOPES)
    except FileNotFoundError:
        raise GoogleSheetsError(_("{client_secret}: no such file; download the OAuth client "
                                  "(Desktop app) from Google Cloud → APIs & Services → "
                                  "Credentials", client_secret=client_secret)) from None
    except ValueError as e:
        raise GoogleSheetsError(_("{client_secret}: not an OAuth client file ({e})",
                                  client_secret=client_secret, e=e)) from None
    try:
        credentials = flow.run_local_server(port=port, open_browser=False, prompt="consent",
                                            access_type="offline")
    except OAuth2Error as e:
        raise GoogleSheetsError(_("Google's sign-in did not complete ({value}); run `sheetkeeper "
                                  "google-login` again", value=e.description or e.error)) from None
    except (requests.RequestException, auth_errors.GoogleAuthError) as e:
        raise GoogleSheetsError(_("Google's sign-in could not be reached ({e}); run `sheetkeeper "
                                  "google-login` again", e=e)) from None
    if not credentials.refresh_token:
        raise GoogleSheetsError(_("Google gave no refresh token, so the service could not stay "
                                  "signed in; remove sheetkeeper's access at "
                                  "https://myaccount.google.com/permissions, then run "
                                  "`sheetkeeper google-login` again"))
    write_private(Path(token_file), credentials.to_json().encode("utf-8"))
    return Path(token_file)


def _account_email(client: gspread.Client) -> str | None:
    """The email of the account Google takes sheetkeeper for (Drive's about.get): whom to
    share a sheet with, where the credentials do not say (a person's sign-in). One request,
    made only when a sheet was refused; None if Drive cannot tell."""
    try:
        about = client.http_client.request("get", DRIVE_ABOUT,
                                           params={"fields": "user(emailAddress)"}).json()
    except (GoogleSheetsError, ValueError):
        return None
    return (about.get("user") or {}).get("emailAddress") if isinstance(about, dict) else None


def drive_account(client: gspread.Client) -> str | None:
    """The email of the account Google takes sheetkeeper for (Drive's about.get), for `sheetkeeper
    doctor`: one request, its refusal raised as sheetkeeper's own (GoogleApiDisabled when the
    Drive API is off, GoogleSignInRefused when the sign-in is). None if Drive does not say."""
    about = client.http_client.request("get", DRIVE_ABOUT,
                                       params={"fields": "user(emailAddress)"}).json()
    return (about.get("user") or {}).get("emailAddress") if isinstance(about, dict) else None


def drive_file(client: gspread.Client, key: str) -> dict[str, Any]:
    """What Drive says of the file `key` for this account (files.get: name, mimeType and
    capabilities.canEdit, whether the account may change it): one request. A file not there
    or not shared with the account is Drive's 404, GoogleNoAccess."""
    answer = client.http_client.request(
        "get", f"https://www.googleapis.com/drive/v3/files/{spreadsheet_key(key)}",
        params={"fields": "name,mimeType,capabilities(canEdit)",
                "supportsAllDrives": True}).json()
    return answer if isinstance(answer, dict) else {}


@dataclass
class GoogleSheet:
    """One spreadsheet, opened."""
    spreadsheet: gspread.Spreadsheet
    account: str | None = None
    grids: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # title: id, rows, cols
    titles: list[str] = field(default_factory=list)    # every tab's, grid or not

    @property
    def key(self) -> str:
        return self.spreadsheet.id

    @property
    def locale(self) -> str | None:
        """The spreadsheet's locale (properties.locale, "en_US", "de_DE"), as read on opening."""
        try:
            return self.spreadsheet.locale
        except KeyError:
            return None

    @classmethod
    def open(cls, client: gspread.Client, ref: str, account: str | None = None) -> "GoogleSheet":
        """The spreadsheet `ref` names (one request), through a client `connect` made (its
        errors are sheetkeeper's own). Refused, it says what to do: whom to share it with
        (the account's email, asked of Drive where the credentials do not say), which API to
        enable, that an .xlsx must be saved as a Google Sheet."""
        key = spreadsheet_key(ref)
        try:
            return cls(client.open_by_key(key), account)
        except GoogleNoAccess as e:
            who = account or _account_email(client)
            share = (f"share it with {who} (as Editor), then run again" if who else
                     "share it with the Google account sheetkeeper uses (as Editor), then "
                     "run again")
            if e.code == 404:
                raise GoogleNoAccess(_("spreadsheet {key} was not found: check its address (copy "
                                       "it from the browser's address bar while the sheet is "
                                       "open); if it is right, {share}",
                                       key=key, share=share), e.code, e.status,
                                     e.reason) from None
            raise GoogleNoAccess(_("spreadsheet {key} is not shared with {value}: {share}",
                                   key=key, value=who or 'the account sheetkeeper uses',
                                   share=share),
                                 e.code, e.status, e.reason) from None
        except NotAGoogleSheet as e:
            raise NotAGoogleSheet(_("spreadsheet {key} is not a Google Sheet; {e}: this is an "
                                    ".xlsx file in Drive: File → Save as Google Sheets, then use "
                                    "the new sheet's address",
                                    key=key, e=e), e.code, e.status, e.reason) from None

    # -- change detection --------------------------------------------------------------------

    def change_signal(self) -> tuple[str, str]:
        """(modifiedTime, version) from Drive: one cheap request."""
        meta = self.spreadsheet.client.request(
            "get", f"https://www.googleapis.com/drive/v3/files/{self.key}",
            params={"fields": "modifiedTime,version", "supportsAllDrives": True}).json()
        return meta.get("modifiedTime", ""), str(meta.get("version", ""))

    # -- reading -----------------------------------------------------------------------------

    def tabs(self) -> list[str]:
        """The titles of the tabs that are grids: a chart on a sheet of its own has no cells,
        and Google refuses to read or write values there. Their ids and grid sizes are kept
        from the same request, for `grow` and for reading within them, and every tab's title,
        for telling a clash (`add_tabs`)."""
        sheets = [s["properties"] for s in self.spreadsheet.fetch_sheet_metadata()["sheets"]]
        self.titles = [p["title"] for p in sheets]
        self.grids = {p["title"]: (p["sheetId"],
                                   p.get("gridProperties", {}).get("rowCount", 1000),
                                   p.get("gridProperties", {}).get("columnCount", 26))
                      for p in sheets if is_grid(p)}
        return list(self.grids)

    def grow(self, cells: Sequence[tuple[str, CellWrite]]) -> bool:
        """Make each tab's grid big enough for `cells` (Google refuses a write past it: a
        Review tab with more pairs than its 1,000 rows). One spreadsheets:batchUpdate, only
        when a tab must grow; True if it was sent. `tabs()` must have been read first."""
        need: dict[str, tuple[int, int]] = {}
        for tab, w in cells:
            rows, cols = need.get(tab, (0, 0))
            need[tab] = (max(rows, w.row), max(cols, w.column + 1))
        requests = []
        for tab, (rows, cols) in need.items():
            sheet_id, have_rows, have_cols = self.grids[tab]
            if rows > have_rows or cols > have_cols:
                # Room for well more than this write (at least double), so growing stays rare.
                size = {"rowCount": max(have_rows, rows + 1000, 2 * have_rows)
                        if rows > have_rows else have_rows,
                        "columnCount": max(have_cols, cols)}
                requests.append({"updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": size},
                    "fields": "gridProperties.rowCount,gridProperties.columnCount"}})
                self.grids[tab] = (sheet_id, size["rowCount"], size["columnCount"])
        if requests:
            self.spreadsheet.batch_update({"requests": requests})
        return bool(requests)

    def read(self, tabs: Sequence[str], formulas: bool = False) -> dict[str, list[list[Any]]]:
        """Every tab's values in one request, rectangular (Google's trimming undone). With
        `formulas`, a formula cell reads as its formula ("=…") and every other as its value."""
        answer = self.spreadsheet.values_batch_get(
            [quoted_tab(t) for t in tabs],
            params={"valueRenderOption": ValueRenderOption.formula if formulas
                    else ValueRenderOption.unformatted,
                    "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"})
        out = {}
        for tab, value_range in zip(tabs, answer.get("valueRanges", [])):
            rows = value_range.get("values", [])
            width = max((len(r) for r in rows), default=0)
            out[tab] = [[None if v == "" else v for v in row] + [None] * (width - len(row))
                        for row in rows]
        return out

    def read_top(self, tabs: Sequence[str], rows: int, whole: Sequence[str] = (),
                 heights: Mapping[str, int] | None = None) -> dict[str, list[list[Any]]]:
        """The first `rows` rows of every tab (where a header is looked for), and all of the
        `whole` tabs, in one request; no further than a tab's `heights` (its grid's rows:
        Google refuses a range past the grid, `'Tab'!1:10` on a 5-row tab)."""
        heights = heights or {}
        wanted = [f"{quoted_tab(t)}!1:{min(rows, heights.get(t, rows))}"
                  for t in tabs if t not in whole] + [quoted_tab(t) for t in whole]
        answer = self.spreadsheet.values_batch_get(
            wanted, params={"valueRenderOption": ValueRenderOption.formula,
                            "majorDimension": "ROWS"})
        order = [t for t in tabs if t not in whole] + list(whole)
        return {t: [list(r) for r in vr.get("values", [])]
                for t, vr in zip(order, answer.get("valueRanges", []))}

    # -- writing -----------------------------------------------------------------------------

    def write(self, writes: Mapping[str, Sequence[CellWrite]],
              rows_as_read: Mapping[tuple[str, int], Sequence[Any]],
              first_column: int | Mapping[str, int] = 0) -> "WriteOutcome":
        """Write `writes` (per tab) into the rows that are still exactly as the cycle read them
        (`rows_as_read[(tab, row)]`, the row's cells from `first_column` on, per tab or for
        all). A row a person changed, or that insertion, deletion or sorting put another row's
        data into, is left whole, and its cells returned as moved: a write can only land on
        the row it was planned for."""
        outcome = self.guard([(tab, w) for tab, ws in writes.items() for w in ws],
                             rows_as_read, first_column)
        self.put(outcome.written)
        return outcome

    def guard(self, cells: Sequence[tuple[str, CellWrite]],
              rows_as_read: Mapping[tuple[str, int], Sequence[Any]],
              first_column: int | Mapping[str, int] = 0) -> "WriteOutcome":
        """Which of `cells` may be written (their row is still as read) and which moved; one
        request, nothing written."""
        if not cells:
            return WriteOutcome((), ())
        firsts = (first_column if isinstance(first_column, Mapping)
                  else {tab: first_column for tab, _ in cells})
        rows = sorted({(tab, w.row) for tab, w in cells})
        inside = self._inside_grids(rows)
        current = self._rows_now(inside, firsts,
                                 {key: len(v) for key, v in rows_as_read.items()}) if inside else {}
        same = {key for key in rows
                if _row_same(current.get(key, ()), rows_as_read.get(key, ()))}
        return _by_row(cells, same)

    def _inside_grids(self, rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
        # A row past a tab's grid holds nothing, and Google refuses to read past the grid.
        return [(tab, r) for tab, r in rows if tab not in self.grids or r <= self.grids[tab][1]]

    def put(self, cells: Sequence[tuple[str, CellWrite]]) -> None:
        """Write `cells` in one values:batchUpdate, RAW: text stays text ("+86…" is not a
        number, "=…" from a person's cell copied into Notes is not a formula), a row's cells
        as one range (bodies.row_ranges: keep `cells` within one of `bodies.parts`, or Google
        may refuse the body as too large). Refused outright, nothing was written (Google
        applies it whole or not at all): WriteFailed."""
        if cells:
            try:
                self.spreadsheet.values_batch_update({
                    "valueInputOption": ValueInputOption.raw, "data": row_ranges(cells)})
            except GoogleRefused as e:
                raise self._write_refused(e) from None

    def _write_refused(self, e: GoogleRefused) -> WriteFailed:
        """A write Google refused outright: nothing of it was written."""
        share = (f" (share it with {self.account} as Editor)"
                 if self.account and isinstance(e, GoogleNoAccess) else "")
        return WriteFailed(_("spreadsheet {key}: the write was refused and nothing was written: "
                             "{e}{share}", key=self.key, e=e, share=share))

    def put_grids(self, grids: Sequence[tuple[str, int, list[list[Any]]]],
                  formulas: Sequence[tuple[str, int, int, str]] = ()) -> None:
        """Bands of a tab's rows, (tab, first row, rows) 0-based, from column A (None: leave
        the cell as it is) in one RAW values:batchUpdate; then `formulas` (tab, row, column,
        "=…"), 0-based, in one USER_ENTERED one, so they are formulas again. (Keep them within
        one of `bodies.grid_bands`, or Google may refuse the body as too large.)

        Google applies a values:batchUpdate whole or not at all, so when it refuses the first
        of them outright (a 4xx answer other than 429: a tab deleted meanwhile, access taken
        away) nothing was written: WriteFailed. Any other failure, or one of the second after
        the first landed, is raised as it came: only the cells can tell what landed."""
        requests = []
        if grids:
            requests.append({"valueInputOption": ValueInputOption.raw,
                             "data": [{"range": f"{quoted_tab(tab)}!A{start + 1}",
                                       "values": rows} for tab, start, rows in grids]})
        if formulas:
            requests.append({"valueInputOption": ValueInputOption.user_entered,
                             "data": row_ranges([(tab, CellWrite(r + 1, c, text))
                                                 for tab, r, c, text in formulas])})
        for n, body in enumerate(requests):
            try:
                self.spreadsheet.values_batch_update(body)
            except GoogleRefused as e:
                if n:
                    raise
                raise self._write_refused(e) from None

    def add_tabs(self, titles: Sequence[str]) -> None:
        """Add tabs (a restore of a tab someone deleted): one spreadsheets:batchUpdate. `tabs()`
        must have been read first."""
        refuse_title_clashes(titles, self.titles or list(self.grids))
        self.spreadsheet.batch_update({"requests": [
            {"addSheet": {"properties": {"title": t}}} for t in titles]})

    def export_xlsx(self) -> bytes:
        """Drive's export of the whole spreadsheet as an .xlsx workbook: one request. Drive
        exports at most 10 MB: over it, GoogleRefused with reason exportSizeLimitExceeded."""
        return self.spreadsheet.export(ExportFormat.EXCEL)

    def _rows_now(self, rows: list[tuple[str, int]], firsts: Mapping[str, int],
                  widths: Mapping[tuple[str, int], int]) -> dict[tuple[str, int], list[Any]]:
        """The rows as they are now: one batchGet of those rows (consecutive rows as one
        range) or, when their ranges would make the request's address longer than MAX_URL
        bytes, of their whole tabs."""
        spans = _spans(rows, firsts, widths)
        ranges = [f"{quoted_tab(tab)}!{column_letter(c0)}{r0}:{column_letter(c1)}{r1}"
                  for tab, r0, r1, c0, c1 in spans]
        params = {"valueRenderOption": ValueRenderOption.formula,
                  "dateTimeRenderOption": "SERIAL_NUMBER"}
        if url_length(VALUES_BATCH_GET.format(self.key), {**params, "ranges": ranges}) \
                <= MAX_URL:
            answer = self.spreadsheet.values_batch_get(ranges, params=params)
            out: dict[tuple[str, int], list[Any]] = {}
            for (tab, r0, r1, _c0, _c1), vr in zip(spans, answer.get("valueRanges", [])):
                values = vr.get("values", [])       # Google leaves out trailing empty rows
                for r in range(r0, r1 + 1):
                    row = list(values[r - r0]) if r - r0 < len(values) else []
                    out[(tab, r)] = row[:max(widths.get((tab, r), 1), 1)]
            return out
        whole = self.read(sorted({tab for tab, _ in rows}), formulas=True)
        return {(tab, row): (whole[tab][row - 1][firsts[tab]:]
                             if row - 1 < len(whole[tab]) else [])
                for tab, row in rows}


def _spans(rows: list[tuple[str, int]], firsts: Mapping[str, int],
           widths: Mapping[tuple[str, int], int]) -> list[tuple[str, int, int, int, int]]:
    """`rows` (sorted) as ranges (tab, first row, last row, first column, last column):
    consecutive rows of a tab in one, as wide as the widest of them."""
    spans: list[list] = []
    for tab, row in rows:
        last = firsts[tab] + max(widths.get((tab, row), 1), 1) - 1
        if spans and spans[-1][0] == tab and spans[-1][2] == row - 1:
            spans[-1][2] = row
            spans[-1][4] = max(spans[-1][4], last)
        else:
            spans.append([tab, row, row, firsts[tab], last])
    return [tuple(s) for s in spans]


def url_length(url: str, params: Mapping[str, Any]) -> int:
    """The length in bytes of `url` with `params` as requests (and so gspread) sends it."""
    return len(requests.Request("GET", url, params=params).prepare().url)


@dataclass(frozen=True)
class WriteOutcome:
    written: tuple
    moved: tuple       # (tab, CellWrite) a person changed since the read: not written


def _by_row(cells: Sequence[tuple[str, CellWrite]], same: set[tuple[str, int]]) -> WriteOutcome:
    """`cells` split by their row: written where the row is still as the cycle read it, moved
    where it is not (a changed row may now be another customer's, after a sort or an insert)."""
    return WriteOutcome(tuple((tab, w) for tab, w in cells if (tab, w.row) in same),
                        tuple((tab, w) for tab, w in cells if (tab, w.row) not in same))


def is_grid(properties: Mapping[str, Any]) -> bool:
    """A tab of cells (sheetType GRID, the default), not a chart on a sheet of its own
    (OBJECT) or a connected data source's (DATA_SOURCE): only a grid has values to read."""
    return properties.get("sheetType", "GRID") == "GRID"


def refuse_title_clashes(adding: Sequence[str], titles: Sequence[str]) -> None:
    """Before tabs are added: Google tells tab titles apart regardless of case, and refuses a
    whole batch for one new tab whose title differs from a tab there only in case (a team's own
    `lists` where sheetkeeper adds `Lists`). Say which tab to rename, with nothing sent."""
    for new in adding:
        for there in titles:
            if there != new and there.casefold() == new.casefold():
                raise GoogleSheetsError(
                    _("the spreadsheet has a tab '{there}', and Google tells tab names apart "
                      "regardless of case, so sheetkeeper cannot add its '{new}' tab: rename the "
                      "tab '{there}', then run again (nothing was changed)", there=there, new=new))


def _only_row(value_range: Mapping[str, Any]) -> list[Any]:
    values = value_range.get("values", [])
    return list(values[0]) if values else []


def _row_same(now: Sequence[Any], before: Sequence[Any]) -> bool:
    width = max(len(now), len(before))
    return all(same_value(now[j] if j < len(now) else None,
                          before[j] if j < len(before) else None)
               for j in range(width))
