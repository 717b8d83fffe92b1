#!/usr/bin/env python3
"""A second, independent scenario generator for the periodic-transfer detector.

Written from descriptions of how people and systems actually extract data from an
administration's information system — not from the cadence engine's hypotheses, and sharing no
code with it (its own random generator, its own holiday list, plain Python, no Rust). Each seed
writes one year of transfers to one undeclared recipient per flow, with the flow's label, then
runs the real binary (`driftwatch audit`) and scores its `periodic_transfer` findings against
the labels: precision, recall and F1, counting high findings (systematic) and, separately, any
finding (high or the low review band).

    python3 benches/field_schedules.py [--binary target/release/driftwatch] [--seeds 4] [--keep DIR]

What a flow is labelled:
- periodic: someone or something sends the data on a schedule, however loose — a person's weekly
  extraction on Monday or Tuesday, a fortnightly Thursday-evening extraction moved to the next
  business day on holidays, a job every three days with a third of runs missed, the first
  business days of each month, a nightly cron, a weekly job moved to another weekday, a weekly
  extraction taken over by a colleague on another day, a probe polling every 15 minutes in office
  hours;
- punctual: transfers answer requests — a case burst of 40 referenced transfers in 72 hours, a
  desk answering requests a few times a week, a campaign month, one request a month on a random
  day, scattered requests, and a crawler that comes back "about every" 46 minutes to 6 hours.
"""

import argparse
import csv
import datetime as dt
import json
import math
import os
import random
import subprocess
import sys
import tempfile

UTC = dt.timezone.utc
YEAR = 2023

# French public holidays of 2023, written out by hand (independent of the detector's calendar).
HOLIDAYS = {dt.date(YEAR, m, d) for m, d in [
    (1, 1), (4, 10), (5, 1), (5, 8), (5, 18), (5, 29), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]}


def paris_offset_hours(day):
    """Summer time in 2023: 26 March to 29 October."""
    return 2 if dt.date(YEAR, 3, 26) <= day < dt.date(YEAR, 10, 29) else 1


def local(day, hours):
    """A wall-clock time in Paris (hours after midnight, may exceed 24) as a UTC instant."""
    wall = dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(hours=hours)
    return wall - dt.timedelta(hours=paris_offset_hours(day))


def business_day(day):
    return day.weekday() < 5 and day not in HOLIDAYS


def next_business_day(day):
    while not business_day(day):
        day += dt.timedelta(days=1)
    return day


def days_of_year():
    day = dt.date(YEAR, 1, 1)
    while day.year == YEAR:
        yield day
        day += dt.timedelta(days=1)


def on_leave(day, rng_leave):
    """A person's leave: three weeks in August and a week around Christmas, plus a week chosen
    at random in spring."""
    return (dt.date(YEAR, 8, 1) <= day <= dt.date(YEAR, 8, 21)
            or day >= dt.date(YEAR, 12, 22)
            or rng_leave <= (day - dt.date(YEAR, 1, 1)).days < rng_leave + 7)


# ----------------------------------------------------------------------------------------------
# Periodic flows

def weekly_by_hand(rng):
    """A person extracts once a week, usually Monday or Tuesday, in office hours; skips one week
    in ten, goes on leave, catches up on the Tuesday after a Monday holiday."""
    leave = rng.randrange(60, 150)
    out = []
    monday = dt.date(YEAR, 1, 2)
    while monday.year == YEAR:
        if rng.random() >= 0.10:
            offset_days = rng.uniform(-0.5, 1.5)  # Monday morning to Tuesday evening, around an anchor
            day = monday + dt.timedelta(days=math.floor(offset_days + 0.5))
            day = next_business_day(day)
            if not on_leave(day, leave):
                out.append((local(day, rng.uniform(9.0, 17.5)), rng.randint(40, 400), ""))
        monday += dt.timedelta(days=7)
    return out


def fortnightly_thursday_evening(rng):
    """Every other Thursday around 22:00 (± 90 min), 15 % skipped, moved to the next business
    day when the Thursday is a holiday."""
    out = []
    thursday = dt.date(YEAR, 1, 5) + dt.timedelta(days=7 * rng.randrange(2))
    while thursday.year == YEAR:
        if rng.random() >= 0.15:
            day = next_business_day(thursday)
            out.append((local(day, 22 + rng.gauss(0, 0.75)), rng.randint(800, 1200), ""))
        thursday += dt.timedelta(days=14)
    return out


def every_three_days(rng):
    """A job re-armed by hand every three days, give or take two hours, a third of runs missed."""
    out = []
    at = dt.datetime(YEAR, 1, 3, 7, tzinfo=UTC) + dt.timedelta(hours=rng.uniform(0, 10))
    while at.year == YEAR:
        if rng.random() >= 0.30:
            out.append((at + dt.timedelta(hours=rng.uniform(-2, 2)), rng.randint(100, 140), ""))
        at += dt.timedelta(days=3)
    return out


def first_business_days(rng):
    """A person's monthly extraction in the first three business days of the month."""
    leave = rng.randrange(60, 150)
    out = []
    for month in range(1, 13):
        if rng.random() < 0.08:
            continue
        day = next_business_day(dt.date(YEAR, month, 1))
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            day = next_business_day(day + dt.timedelta(days=1))
        if not on_leave(day, leave) or month == 8:
            out.append((local(day, rng.uniform(8.5, 12.0)), rng.randint(1000, 5000), ""))
    return out


def nightly_cron(rng):
    """A nightly job at 02:15 local time, a few seconds late, 5 % of nights missed."""
    return [(local(day, 2.25 + rng.uniform(0, 40) / 3600), rng.randint(900, 1100), "")
            for day in days_of_year() if rng.random() >= 0.05]


def weekly_job_moved(rng):
    """A weekly job on Mondays at 06:00, moved to Wednesdays at 06:00 in May."""
    out = []
    for day in days_of_year():
        wanted = 0 if day < dt.date(YEAR, 5, 1) else 2
        if day.weekday() == wanted and rng.random() >= 0.05:
            out.append((local(day, 6 + rng.uniform(0, 2) / 60), 500, ""))
    return out


def weekly_person_replaced(rng):
    """A weekly extraction on Friday afternoons by one person; from July a colleague does it on
    Tuesday mornings."""
    out = []
    for day in days_of_year():
        wanted, hours = (4, (14.0, 17.0)) if day < dt.date(YEAR, 7, 1) else (1, (9.0, 11.5))
        if day.weekday() == wanted and business_day(day) and rng.random() >= 0.1:
            if not dt.date(YEAR, 8, 1) <= day <= dt.date(YEAR, 8, 18):
                out.append((local(day, rng.uniform(*hours)), rng.randint(50, 90), ""))
    return out


def office_hours_probe(rng):
    """A monitoring job pulling a status extract every 15 minutes from 08:00 to 18:00 on business
    days, from October."""
    out = []
    for day in days_of_year():
        if day >= dt.date(YEAR, 10, 1) and business_day(day):
            for quarter in range(40):
                if rng.random() >= 0.03:
                    out.append((local(day, 8 + quarter / 4 + rng.uniform(0, 20) / 3600), 1, ""))
    return out


# ----------------------------------------------------------------------------------------------
# Punctual flows

def case_burst(rng):
    """An agent working one case: 40 referenced transfers in 72 hours, then nothing."""
    start = local(dt.date(YEAR, rng.randrange(2, 11), rng.randrange(1, 25)), 9)
    return [(start + dt.timedelta(hours=rng.uniform(0, 72)), rng.randint(1, 5), f"CASE-{rng.randrange(10**6)}")
            for _ in range(40)]


def request_desk(rng):
    """A desk answering requests, one or two a week, in office hours, each with its reference."""
    out = []
    for day in days_of_year():
        if business_day(day) and rng.random() < 0.3:
            out.append((local(day, rng.uniform(8.5, 17.5)), rng.randint(1, 30), f"REQ-{rng.randrange(10**6)}"))
    return out


def campaign_month(rng):
    """A control campaign: 25 referenced requests in one month, a few scattered elsewhere."""
    month = rng.randrange(2, 12)
    out = [(local(dt.date(YEAR, month, rng.randrange(1, 28)), rng.uniform(8.5, 17.5)), rng.randint(1, 10),
            f"CAMP-{rng.randrange(10**6)}") for _ in range(25)]
    for _ in range(5):
        day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))
        out.append((local(day, rng.uniform(8.5, 17.5)), rng.randint(1, 10), f"REQ-{rng.randrange(10**6)}"))
    return out


def monthly_random_day(rng):
    """One request a month, on a random business day, at a random office hour."""
    out = []
    for month in range(1, 13):
        day = next_business_day(dt.date(YEAR, month, rng.randrange(1, 28)))
        out.append((local(day, rng.uniform(8.5, 17.5)), rng.randint(1, 30), f"REQ-{rng.randrange(10**6)}"))
    return out


def scattered_requests(rng):
    """Fifteen to forty requests over the year, whenever a case needs one."""
    out = []
    for _ in range(rng.randint(15, 40)):
        day = next_business_day(dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(360)))
        out.append((local(day, rng.uniform(8.5, 17.5)), rng.randint(1, 30), f"REQ-{rng.randrange(10**6)}"))
    return out


def crawler(rng):
    """A crawler over three weeks: it comes back after 46 minutes to 6 hours, its delay changing
    with its queue (each wait ± 40 % around a drifting mean)."""
    out = []
    at = dt.datetime(YEAR, rng.randrange(1, 12), 3, tzinfo=UTC)
    end = at + dt.timedelta(days=21)
    mean = rng.uniform(46, 360)
    while at < end:
        out.append((at, 1, ""))
        mean = min(360, max(46, mean * rng.uniform(0.9, 1.1)))
        at += dt.timedelta(minutes=mean * rng.uniform(0.6, 1.4))
    return out


SCENARIOS = [
    ("weekly_by_hand", True, weekly_by_hand),
    ("fortnightly_thursday_evening", True, fortnightly_thursday_evening),
    ("every_three_days", True, every_three_days),
    ("first_business_days", True, first_business_days),
    ("nightly_cron", True, nightly_cron),
    ("weekly_job_moved", True, weekly_job_moved),
    ("weekly_person_replaced", True, weekly_person_replaced),
    ("office_hours_probe", True, office_hours_probe),
    ("case_burst", False, case_burst),
    ("request_desk", False, request_desk),
    ("campaign_month", False, campaign_month),
    ("monthly_random_day", False, monthly_random_day),
    ("scattered_requests", False, scattered_requests),
    ("crawler", False, crawler),
]

REGISTER = """processing = "field"
in_force_from = "2020-01-01"
[[dataset]]
id = "follow_ups"
[[role]]
id = "agent"
[[purpose]]
id = "inspection"
datasets = ["follow_ups"]
roles = ["agent"]
categories = ["identity"]
"""


def write_world(directory, seed):
    rng = random.Random(seed * 7919 + 17)
    rows = []
    for name, _, make in SCENARIOS:
        for copy in range(2):  # two flows per scenario and seed
            recipient = f"{name}-{copy}"
            for i, (at, volume, reference) in enumerate(make(rng)):
                if at.year != YEAR:
                    continue
                rows.append([f"{recipient}-{i}", at.strftime("%Y-%m-%dT%H:%M:%SZ"), f"u-{name[:6]}-{copy}",
                             "agent", "transfer", "follow_ups", "identity", recipient, reference, volume])
    rows.sort(key=lambda r: (r[1], r[0]))
    with open(os.path.join(directory, "events.csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["event_id", "ts", "actor_id", "actor_role", "action", "dataset", "categories",
                         "recipient", "request_ref", "record_count"])
        writer.writerows(rows)
    with open(os.path.join(directory, "register.toml"), "w") as handle:
        handle.write(REGISTER)


def audit(binary, directory):
    out = os.path.join(directory, "out")
    subprocess.run([binary, "audit", "--quiet", "--reveal-identities", "--fail-on", "never", "--format", "json",
                    "--events", os.path.join(directory, "events.csv"),
                    "--register", os.path.join(directory, "register.toml"), "--out", out],
                   check=True, env={**os.environ, "DRIFTWATCH_KEY": "00" * 16})
    with open(os.path.join(out, "findings.json")) as handle:
        findings = json.load(handle)["findings"]
    return {f["recipient"]: f for f in findings if f["detector"] == "periodic_transfer"}


def f1(tp, fp, fn):
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="target/release/driftwatch")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--keep", help="keep each seed's world and findings under this folder")
    args = parser.parse_args()
    per_scenario = {name: [0, 0, 0] for name, _, _ in SCENARIOS}  # flagged high, flagged any, flows
    print("| seed | precision (high) | recall (high) | F1 (high) | F1 (any severity) |")
    print("|---:|---:|---:|---:|---:|")
    misses = []
    for seed in range(args.seeds):
        directory = os.path.join(args.keep, f"seed-{seed}") if args.keep else tempfile.mkdtemp()
        os.makedirs(directory, exist_ok=True)
        write_world(directory, seed)
        found = audit(args.binary, directory)
        counts = {"high": [0, 0, 0], "any": [0, 0, 0]}
        for name, periodic, _ in SCENARIOS:
            for copy in range(2):
                finding = found.get(f"{name}-{copy}")
                for level, flagged in (("high", finding is not None and finding["severity"] == "high"),
                                       ("any", finding is not None)):
                    tp_fp_fn = counts[level]
                    if flagged and periodic:
                        tp_fp_fn[0] += 1
                    elif flagged:
                        tp_fp_fn[1] += 1
                    elif periodic:
                        tp_fp_fn[2] += 1
                high = finding is not None and finding["severity"] == "high"
                per_scenario[name][0] += high
                per_scenario[name][1] += finding is not None
                per_scenario[name][2] += 1
                if high != periodic:
                    what = finding["details"]["cadence"]["description"] if finding else "not flagged"
                    misses.append(f"seed {seed} {name}-{copy}: {'missed' if periodic else 'false'} ({what})")
        p, r, f = f1(*counts["high"])
        print(f"| {seed} | {p:.3f} | {r:.3f} | {f:.3f} | {f1(*counts['any'])[2]:.3f} |")
    print()
    print("| scenario | label | flagged high | flagged at any severity |")
    print("|---|---|---:|---:|")
    for name, periodic, _ in SCENARIOS:
        high, any_, total = per_scenario[name]
        print(f"| {name} | {'periodic' if periodic else 'punctual'} | {high}/{total} | {any_}/{total} |")
    if misses:
        print()
        print("\n".join(misses))


if __name__ == "__main__":
    sys.exit(main())
