#!/usr/bin/env python3
"""Reads the JSON of a bench/run (DIR/<scenario>-<target>-r<round>.json and DIR/machine.json),
prints each figure and Switchboard ÷ nchan per round, and with --write FILE replaces the
generated part of FILE (between its bench/run markers) with the tables.

Figures of a target are medians over the rounds; a ratio is computed per round (the targets
ran alternately in the same run) and given as its median and its range over the rounds.

usage: bench/render.py DIR [--write BENCHMARKS.md]
"""
import glob
import json
import os
import re
import statistics
import sys

BEGIN = "<!-- bench/run: begin (generated from docs/benchmarks/vs-nchan/, do not edit by hand) -->"
END = "<!-- bench/run: end -->"
NAME = re.compile(r"^(?P<scenario>.+)-(?P<target>sqlite|postgres|nchan)-r(?P<round>\d+)\.json$")
STORE = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
# Issue 15's targets.
P99_MAX_MS = {"sqlite": 5.0, "postgres": 20.0}
MSGS_MIN = {"sqlite": 1.0, "postgres": 0.5}
ABOVE_BASELINE_MAX_B = 2048


def load(directory):
    """{scenario: {target: {round: summary}}} and the machine."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        match = NAME.match(os.path.basename(path))
        if not match:
            continue
        with open(path) as file:
            summary = json.load(file)
        runs.setdefault(match["scenario"], {}).setdefault(match["target"], {})[int(match["round"])] = summary
    machine = {}
    if os.path.exists(os.path.join(directory, "machine.json")):
        with open(os.path.join(directory, "machine.json")) as file:
            machine = json.load(file)
    return runs, machine


def per_message_us(percent, per_sec):
    """CPU in µs per delivered message from percent of one core and messages per second."""
    if percent is None or not per_sec:
        return None
    return percent / 100 * 1e6 / per_sec


def integrity(summary):
    verdict = (summary.get("integrity") or {}).get("verdict") or {}
    return (verdict.get("lost"), verdict.get("duplicated"), verdict.get("reordered"))


def others(window):
    """CPU other processes than the server, its PostgreSQL backends and the generator used in a
    window, percent of one core: other work on the machine, which skews every figure."""
    share = (window.get("machine") or {}).get("others_percent_of_one_core")
    if share is None:
        return None
    return max(share - (window.get("store_backends_cpu_percent_of_one_core") or 0), 0)


def window_figures(window, summary):
    """What a measured window (a throughput run, or a latency run's step) delivered, and at what cost."""
    per_sec = window.get("delivered_per_sec")
    latency = window.get("latency_us") or {}
    server = window.get("server_process") or {}
    return {
        "msgs": per_sec,
        "p50": ms(latency.get("p50")),
        "p99": ms(latency.get("p99")),
        "cpu_us": per_message_us(server.get("cpu_percent_of_one_core"), per_sec),
        "pg_us": per_message_us(window.get("store_backends_cpu_percent_of_one_core"), per_sec),
        "others": others(window),
        "integrity": integrity(summary),
    }


def closed_loop(summary):
    """A throughput run's figures."""
    return window_figures(summary, summary)


def open_loop(summary):
    """The (one) step of a latency run: whether it kept the schedule, and its latency."""
    step = (summary.get("steps") or [{}])[0]
    rate, per_sec = step.get("rate"), step.get("delivered_per_sec")
    window = step.get("window_secs") or 0
    late = step.get("late_sends") or 0
    kept = bool(rate and per_sec and per_sec >= 0.97 * rate and late <= 0.01 * rate * window)
    return {"rate": rate, "late": late, "kept": kept, **window_figures(step, summary)}


def held_polls(summary):
    """RSS per held poll at the highest step, of the target and of the baseline in its run."""
    comparison = (summary.get("comparison") or [{}])[-1]
    return {
        "polls": comparison.get("held_polls"),
        "bytes": comparison.get("switchboard_bytes_per_poll"),
        "baseline": comparison.get("baseline_bytes_per_poll"),
        "above": comparison.get("above_baseline_bytes_per_poll"),
        "cpu": comparison.get("switchboard_cpu_percent_of_one_core"),
        "integrity": (0, 0, 0),
    }


def logins(summary):
    """How N logins at once were answered, and the server's RSS after them."""
    found = summary.get("logins") or {}
    verdict = summary.get("verdict") or {}
    answers = found.get("answers") or {}
    return {
        "agents": (summary.get("settings") or {}).get("agents"),
        "rss_mib": verdict.get("rss_after_logins_mib"),
        "peak_mib": verdict.get("rss_peak_during_logins_mib"),
        "refused": (answers.get("429") or 0) + (answers.get("503") or 0),
        "unexpected": (answers.get("other") or 0) + (answers.get("no_answer") or 0),
        "failed": found.get("failed_for_good"),
        "ok": verdict.get("rss_after_logins_under_target") and found.get("failed_for_good") == 0,
        "integrity": (0, 0, 0),
    }


READERS = {"throughput": closed_loop, "latency": open_loop, "idle": held_polls, "logins": logins}


def ms(us):
    return None if us is None else us / 1000


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def figures(runs, scenario):
    """{target: {round: figures}} of one scenario."""
    result = {}
    for target, rounds in runs.get(scenario, {}).items():
        for number, summary in rounds.items():
            reader = READERS.get(summary.get("scenario"))
            if reader:
                result.setdefault(target, {})[number] = reader(summary)
    return result


def med(by_round, key):
    return median(figure.get(key) for figure in by_round.values())


def ratios(ours, theirs, key):
    """Switchboard ÷ nchan per round both ran: (median, min, max), or None."""
    values = [
        ours[number][key] / theirs[number][key]
        for number in ours
        if number in theirs and ours[number].get(key) and theirs[number].get(key)
    ]
    return (statistics.median(values), min(values), max(values)) if values else None


def fmt(value, digits=0, unit=""):
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def fmt_ratio(found):
    if found is None:
        return "–"
    middle, low, high = found
    if abs(high - low) < 0.005:
        return f"{middle:.2f}×"
    return f"{middle:.2f}× ({low:.2f}–{high:.2f})"


def quotient(ours, theirs):
    return f"{ours / theirs:.2f}×" if ours and theirs else "–"


def verdict(ok):
    return "–" if ok is None else ("**met**" if ok else "missed")


def clean(by_round):
    return all(figure["integrity"] == (0, 0, 0) for figure in by_round.values())


def target_rows(runs):
    """The targets table: one row per target of issue 15."""
    rows = []
    for chats in ("100", "1000"):
        found = figures(runs, f"throughput-{chats}")
        nchan = found.get("nchan", {})
        for store in ("sqlite", "postgres"):
            ours = found.get(store)
            if not ours:
                continue
            ratio = ratios(ours, nchan, "msgs")
            rows.append((
                f"closed loop, {int(chats):,} chats, {STORE[store]}: delivered msg/s",
                fmt(med(ours, "msgs")), fmt(med(nchan, "msgs")), fmt_ratio(ratio),
                f"≥ {MSGS_MIN[store]:.1f}× nchan", verdict(ratio and ratio[0] >= MSGS_MIN[store]),
            ))
            cpu = ratios(ours, nchan, "cpu_us")
            extra = ""
            if store == "postgres" and med(ours, "pg_us") is not None:
                extra = f" + {fmt(med(ours, 'pg_us'))} µs in PostgreSQL's backends"
            rows.append((
                f"closed loop, {int(chats):,} chats, {STORE[store]}: server CPU per delivered message",
                f"{fmt(med(ours, 'cpu_us'))} µs{extra}", f"{fmt(med(nchan, 'cpu_us'))} µs", fmt_ratio(cpu),
                "≤ nchan's" if store == "sqlite" else "(reported)",
                verdict(cpu and cpu[0] <= 1.0) if store == "sqlite" else "–",
            ))
    found = figures(runs, "open-loop")
    nchan = found.get("nchan", {})
    for store in ("sqlite", "postgres"):
        ours = found.get(store)
        if not ours:
            continue
        kept = all(figure["kept"] for figure in ours.values())
        p99 = med(ours, "p99")
        rate = med(ours, "rate") or 0
        nchan_kept = all(figure["kept"] for figure in nchan.values()) if nchan else None
        rows.append((
            f"open loop, {rate:,.0f} msg/s over 5,000 chats, {STORE[store]}: kept the schedule; p99",
            f"{'kept' if kept else 'fell behind'} ({fmt(med(ours, 'msgs'))}/s); p99 {fmt(p99, 1, 'ms')}",
            f"{'kept' if nchan_kept else 'fell behind'} ({fmt(med(nchan, 'msgs'))}/s); p99 {fmt(med(nchan, 'p99'), 1, 'ms')}"
            if nchan else "–",
            fmt_ratio(ratios(ours, nchan, "p99")),
            f"kept, p99 ≤ {P99_MAX_MS[store]:.0f} ms",
            verdict(kept and p99 is not None and p99 <= P99_MAX_MS[store]),
        ))
    found = figures(runs, "held-polls")
    ours, nchan = found.get("sqlite"), found.get("nchan", {})
    if ours:
        above = med(ours, "above")
        rows.append((
            f"held polls ({fmt(med(ours, 'polls'))}), each visitor in an open chat: RSS per held poll",
            f"{fmt(med(ours, 'bytes'))} B, {fmt(above)} B above bare actix-web ({fmt(med(ours, 'baseline'))} B)",
            f"{fmt(med(nchan, 'bytes'))} B",
            fmt_ratio(ratios(ours, nchan, "bytes")),
            f"≤ actix-web + {ABOVE_BASELINE_MAX_B:,} B",
            verdict(above is not None and above <= ABOVE_BASELINE_MAX_B),
        ))
    found = figures(runs, "logins").get("sqlite")
    if found:
        rows.append((
            f"{fmt(med(found, 'agents'))} logins at once: server RSS after them; answers",
            f"{fmt(med(found, 'rss_mib'), 1)} MiB (peak {fmt(med(found, 'peak_mib'), 1)}); "
            f"{fmt(med(found, 'refused'))} refused with 429/503, {fmt(med(found, 'unexpected'))} other, "
            f"{fmt(med(found, 'failed'))} failed for good",
            "(nchan has no logins)", "",
            "< 200 MiB, 429/503 rather than a queue",
            verdict(all(figure["ok"] for figure in found.values())),
        ))
    every = [by_round for scenario in runs for by_round in figures(runs, scenario).values()]
    if every:
        ok = all(clean(by_round) for by_round in every)
        count = sum(len(by_round) for by_round in every)
        rows.append((
            "integrity: lost / duplicated / reordered", f"0 / 0 / 0 in every one of {count} runs" if ok else "NOT 0 (see below)",
            "", "", "0 / 0 / 0 in every run", verdict(ok),
        ))
    return rows


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def scenario_tables(runs):
    """Every figure of every run, round by round."""
    parts = []
    titles = {
        "throughput-100": "Closed loop, 100 chats",
        "throughput-1000": "Closed loop, 1,000 chats",
        "open-loop": "Open loop, 5,000 msg/s over 5,000 chats",
        "held-polls": "Held polls (Switchboard: each visitor in an open chat)",
    }
    for scenario, title in titles.items():
        found = figures(runs, scenario)
        if not found:
            continue
        rows = []
        nchan = found.get("nchan", {})
        for target in ("sqlite", "postgres", "nchan"):
            for number, figure in sorted(found.get(target, {}).items()):
                name = "Switchboard " + STORE[target] if target in STORE else "nchan"
                lost, dup, reordered = figure["integrity"]
                if scenario == "held-polls":
                    rows.append((name, number, fmt(figure["polls"]), fmt(figure["bytes"]), fmt(figure["baseline"]), fmt(figure["cpu"], 1)))
                else:
                    rows.append((
                        name, number, fmt(figure["msgs"]), fmt(figure["p50"], 1), fmt(figure["p99"], 1),
                        fmt(figure["cpu_us"]), fmt(figure.get("pg_us")), fmt(figure.get("others")),
                        f"{lost} / {dup} / {reordered}",
                    ))
        if scenario != "held-polls":
            # Switchboard ÷ nchan of the same round, figure by figure.
            for target in ("sqlite", "postgres"):
                for number, figure in sorted(found.get(target, {}).items()):
                    if number not in nchan:
                        continue
                    theirs = nchan[number]
                    cells = [quotient(figure.get(key), theirs.get(key)) for key in ("msgs", "p50", "p99", "cpu_us")]
                    rows.append((f"*{STORE[target]} ÷ nchan*", number, *cells, "", "", ""))
        if scenario == "held-polls":
            header = ("target", "round", "held polls", "RSS B/poll", "bare actix-web B/poll", "server CPU % of a core")
        else:
            header = ("target", "round", "delivered msg/s", "p50 ms", "p99 ms", "server CPU µs/msg", "PostgreSQL backends µs/msg", "others % of a core", "lost / dup / reordered")
        parts.append(f"#### {title}\n\n{table(header, rows)}")
    return "\n\n".join(parts)


def settings(machine):
    if not machine:
        return ""
    sqlite, pg = machine.get("sqlite", {}), machine.get("postgres", {})
    return (
        f"Run of {machine.get('date_utc')} UTC at commit `{machine.get('commit')}`: {machine.get('cpu_model')}, "
        f"{machine.get('cores')} cores, {machine.get('memory_gib')} GiB, Linux {machine.get('kernel')}, "
        f"`ulimit -n` {machine.get('ulimit_n')}, {machine.get('rustc')}, load average "
        f"{machine.get('load_average_at_start')} at the start. "
        f"SQLite: `journal_mode = {sqlite.get('journal_mode')}`, `synchronous = {sqlite.get('synchronous')}` "
        f"(as the server sets them). PostgreSQL {pg.get('server_version')} on the same machine: "
        f"`synchronous_commit = {pg.get('synchronous_commit')}`, `fsync = {pg.get('fsync')}`, URL "
        f"`{pg.get('url')}` (`sslmode={pg.get('sslmode')}`: TLS over loopback would cost PostgreSQL about a "
        f"quarter of its CPU). {machine.get('nginx')}, libnginx-mod-nchan {machine.get('nchan')}, one worker."
    )


def render(runs, machine):
    rounds = max((len(by_round) for scenario in runs for by_round in runs[scenario].values()), default=0)
    target_table = table(("target", "Switchboard", "nchan", "Switchboard ÷ nchan", "target", ""), target_rows(runs))
    return "\n\n".join([
        BEGIN,
        settings(machine),
        f"{rounds} round(s), the targets alternating within each round. Figures are medians of the rounds; "
        "a ratio is Switchboard ÷ nchan per round, its median and (range).",
        target_table,
        "### Every run\n\n" + scenario_tables(runs),
        END,
    ])


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    runs, machine = load(args[0])
    text = render(runs, machine)
    print(text)
    if len(args) >= 3 and args[1] == "--write":
        with open(args[2]) as file:
            document = file.read()
        if BEGIN in document and END in document:
            head, rest = document.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            document = head + text + tail
        else:
            document = document.rstrip("\n") + "\n\n" + text + "\n"
        with open(args[2], "w") as file:
            file.write(document)
        print(f"bench/render.py: {args[2]} regenerated", file=sys.stderr)


if __name__ == "__main__":
    main()
