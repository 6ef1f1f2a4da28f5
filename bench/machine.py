#!/usr/bin/env python3
"""The machine and the settings a run of bench/run measured with, as JSON on standard output:
CPU model, cores, kernel, the commit, SQLite's journal_mode and synchronous as the server sets
them (read from src/store/connection.rs), PostgreSQL's version and synchronous_commit and the
sslmode of the URL used, nginx's and nchan's versions.

usage: bench/machine.py POSTGRES_URL NGINX
"""
import json
import os
import platform
import re
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlparse


def run(*command):
    """A command's standard output (and error), stripped; None when it cannot run."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout + done.stderr).strip() if done.returncode == 0 else None


def cpu_model():
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def sqlite_settings():
    """The PRAGMAs each store connection runs (the server's own source says which)."""
    with open("src/store/connection.rs") as source:
        text = source.read()
    found = {}
    for name in ("journal_mode", "synchronous"):
        match = re.search(r"PRAGMA\s+" + name + r"\s*=\s*(\w+)", text)
        found[name] = match.group(1) if match else None
    return found


def postgres(url):
    query = parse_qs(urlparse(url).query)
    settings = {"url": re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", url), "sslmode": query.get("sslmode", ["(libpq default: prefer)"])[0]}
    for name in ("server_version", "synchronous_commit", "fsync", "wal_sync_method"):
        settings[name] = run("psql", url, "-Atc", f"show {name}")
    return settings


def main():
    pg_url, nginx = sys.argv[1], sys.argv[2]
    machine = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "commit": run("git", "rev-parse", "--short", "HEAD"),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "ulimit_n": run("sh", "-c", "ulimit -n"),
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "rustc": run("rustc", "--version"),
        "sqlite": sqlite_settings(),
        "postgres": postgres(pg_url),
        "nginx": run(nginx, "-v"),
        "nchan": run("dpkg-query", "-W", "-f", "${Version}", "libnginx-mod-nchan"),
    }
    json.dump(machine, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
