"""Make this Linux process look like Windows to sheetkeeper's own code, so a POSIX-only call in it
fails here, in `make test`, rather than on a customer's Windows PC.

What it does (install(), once per process):
- `import fcntl` (and the other POSIX-only modules below) raises ImportError, as on Windows;
- os.fork and the other functions Windows' `os` lacks are gone, and multiprocessing offers
  only "spawn" (asking for a "fork" context raises ValueError, as on Windows);
- audit.os_family answers "windows", so every os-family question sheetkeeper asks takes the
  Windows branch (sheetkeeper never reads os.name or sys.platform itself);
- signal.SIGBREAK (Windows' Ctrl-Break) exists, as an alias of SIGUSR1, so the service's
  Windows stop signal is installed and can be sent here.

What it does not do: the libraries underneath keep their Linux implementations. filelock is
imported before fcntl is refused, so its lock stays flock here (on Windows it is LockFileEx,
tested by filelock's own CI); watchdog, subprocess and the standard library are Linux's. This
mode catches sheetkeeper's own POSIX-only calls; the CI matrix (.github/workflows/tests.yml)
runs the suite on real Windows and macOS for whoever forks the repository.

Installed in every Python process started with SHEETKEEPER_AS_WINDOWS=1 and this folder on
PYTHONPATH (its sitecustomize.py), which tests/conftest.py arranges, so the CLI and the daemon
run as subprocesses of a test are in the same mode as the test.
"""
from __future__ import annotations

import importlib.abc
import multiprocessing
import os
import signal
import sys
import types

ENV = "SHEETKEEPER_AS_WINDOWS"

REFUSED = ("fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "syslog")

# In os on Linux, not on Windows (3.11), and taken away here. Not all of them: pytest and the
# standard library ask for the user id and the like on Linux (having checked sys.platform,
# which stays "linux"), so those stay, and tests/test_windows_mode.py finds them in
# sheetkeeper's code by reading it (POSIX_ONLY_OS_ALL).
POSIX_ONLY_OS = ("fork", "forkpty", "register_at_fork", "fchmod", "fchown", "lchown", "killpg",
                 "setsid", "setpgid", "sync", "fdatasync", "statvfs", "fstatvfs", "mkfifo",
                 "mknod", "listxattr", "getxattr", "setxattr", "removexattr")
POSIX_ONLY_OS_ALL = POSIX_ONLY_OS + (
    "chown", "getuid", "geteuid", "getgid", "getegid", "getgroups", "setuid", "setgid",
    "getpgid", "getsid", "nice", "getloadavg", "uname", "pread", "pwrite", "posix_fadvise",
    "posix_fallocate", "openpty", "ttyname", "sched_getaffinity", "O_NOFOLLOW", "O_NONBLOCK",
    "O_DIRECTORY", "O_CLOEXEC")


class RefusePosixModules(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in REFUSED:
            raise ModuleNotFoundError(f"No module named {name!r} (Windows mode: tests/windows_mode)",
                                      name=name)
        return None


def installed() -> bool:
    return any(isinstance(f, RefusePosixModules) for f in sys.meta_path)


def install() -> None:
    if installed():
        return
    import filelock  # noqa: F401  (binds flock before fcntl is refused; see the docstring)
    from audit import os_family
    os_family.PRETEND = "windows"
    for name in REFUSED:
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, RefusePosixModules())
    _keep_linux_os_for("filelock")
    for name in POSIX_ONLY_OS:
        if hasattr(os, name):
            delattr(os, name)
    _spawn_only()
    if not hasattr(signal, "SIGBREAK"):
        signal.SIGBREAK = signal.SIGUSR1
    os.environ[ENV] = "1"


def _keep_linux_os_for(package: str) -> None:
    """The package's modules keep a copy of Linux's whole `os`: the library goes on as it does
    on Linux, while sheetkeeper's code finds the functions Windows lacks gone."""
    linux_os = types.ModuleType("os")
    linux_os.__dict__.update(os.__dict__)
    for name, module in list(sys.modules.items()):
        if (name == package or name.startswith(package + ".")) and \
                getattr(module, "os", None) is os:
            module.os = linux_os


def _spawn_only() -> None:
    multiprocessing.set_start_method("spawn", force=True)
    real_get_context = multiprocessing.get_context

    def get_context(method=None):
        if method not in (None, "spawn"):
            raise ValueError(f"cannot find context for {method!r} (Windows mode)")
        return real_get_context(method)

    multiprocessing.get_all_start_methods = lambda: ["spawn"]
    multiprocessing.get_context = get_context
