"""A PostgreSQL + PostGIS server for the PostGIS tests.

:func:`postgis_server` gives the URL (no password in it) and the password of a server:
the one ``GEO_TOWNSHIP_PG_URL`` names (``postgresql://USER:PASSWORD@HOST:PORT/DB``), else
a temporary cluster started from the installed binaries (``initdb`` + ``pg_ctl``, as the
``postgres`` user when run as root, which PostgreSQL refuses to run as) on a free local
port, with password authentication over TCP so the tests exercise ``PGPASSWORD``. When
neither is possible it returns the reason, and the tests skip with it, except when
``GEO_TOWNSHIP_REQUIRE_POSTGIS=1`` (as ``.ci/run`` sets): then they fail.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PASSWORD = "township-test-pw"


@dataclass
class Server:
    url: str  # postgresql://USER@HOST:PORT/DB, no password
    password: str


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _has_postgis(bindir: Path) -> bool:
    if glob.glob("/usr/share/postgresql/*/extension/postgis.control"):
        return True
    try:
        share = subprocess.run([str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True)
    except OSError:
        return False
    return (Path(share.stdout.strip() or "/nonexistent") / "extension" / "postgis.control").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _from_env() -> Server | None:
    url = os.environ.get("GEO_TOWNSHIP_PG_URL")
    if not url:
        return None
    parts = urlsplit(url)
    password = parts.password or os.environ.get("PGPASSWORD", "")
    host = parts.hostname or "localhost"
    netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return Server(urlunsplit((parts.scheme, netloc, parts.path, "", "")), password)


@contextlib.contextmanager
def postgis_server() -> Iterator[Server | str]:
    """Yield a :class:`Server`, or the reason why none can be had."""
    given = _from_env()
    if given is not None:
        yield given
        return
    bindir = _bin_dir()
    if bindir is None:
        yield "PostgreSQL is not installed (apt install postgresql postgis, or set GEO_TOWNSHIP_PG_URL)"
        return
    if not _has_postgis(bindir):
        yield "PostGIS is not installed (apt install postgis, or set GEO_TOWNSHIP_PG_URL)"
        return
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="geo-township-pg-")
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            yield "running as root and there is no postgres user to run the server as"
            return
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, pwfile = Path(root) / "data", Path(root) / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
    port = _free_port()
    started = False
    try:
        init = subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                               "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                               f"--pwfile={pwfile}"], capture_output=True, text=True)
        if init.returncode != 0:
            yield f"initdb failed: {init.stderr.strip()[-300:]}"
            return
        start = subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(Path(root) / "log"),
                                "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                                "start"], capture_output=True, text=True)
        if start.returncode != 0:
            log = (Path(root) / "log").read_text() if (Path(root) / "log").exists() else ""
            yield f"the PostgreSQL server did not start: {(start.stderr + log).strip()[-300:]}"
            return
        started = True
        ext = subprocess.run([*as_user, str(bindir / "psql") if (bindir / "psql").exists() else "psql",
                              "-h", root, "-p", str(port), "-U", "postgres", "-d", "postgres", "-v",
                              "ON_ERROR_STOP=1", "-c", "CREATE EXTENSION postgis"], capture_output=True, text=True)
        if ext.returncode != 0:
            yield f"CREATE EXTENSION postgis failed: {ext.stderr.strip()[-300:]}"
            return
        yield Server(f"postgresql://postgres@127.0.0.1:{port}/postgres", PASSWORD)
    finally:
        if started:
            subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
