#!/usr/bin/env python3
"""Concurrent invariant test for usersvc, then an audit of the table read straight from moto.

Run by tests/e2e/test_invariants.sh (which gets BASE_URL, E2E_MOTO_URL, E2E_AWS_ACCESS_KEY_ID,
E2E_AWS_SECRET_ACCESS_KEY and E2E_TABLE from tests/e2e/run.sh). Prints one "PASS msg" or
"FAIL msg" line per check, "INFO msg" lines with figures, and exits 1 when any check failed.

Each round fires one batch of about 30 requests at once from PARALLEL threads, on disjoint users:
  - create race: 8 POSTs with one new email (exactly one 201, the others 409 email_taken), and
    2 POSTs with the email of a live user (409 email_taken);
  - a swap (A takes B's email while B takes A's) and a three-way rotation: every guard they want
    is held, so every one of them must be 409 email_taken and no email may move;
  - a chain with one free slot (A -> new email, B -> A's, C -> B's): any order is legal;
  - 6 PATCHes with the same If-Match, half of them changing the email: exactly one 200, the
    others 412 or 409 concurrent_update;
  - a DELETE racing with 3 PATCHes (one changing the email);
  - 3 unconditional PATCHes of one user: all 200.
A round waits for all its answers, so the test knows every user's version and email exactly
before the next one. Every answer must be one the API documents for that race (never a 5xx or
no answer). At the end the whole table is scanned from moto (boto3) and checked:
  - every user has exactly one guard, {"id": "email#<its email>", "userId": "<its id>"};
  - every guard points at a user that has that email (no orphan guards, no foreign guards);
  - no two users share an email;
  - every user the test still owns has version 1 + its successful PATCHes and the email and
    version of the last successful write; every user it deleted is gone.
"""

import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

PARALLEL = int(os.environ.get("INV_PARALLEL", "24"))
SECONDS = float(os.environ.get("INV_SECONDS", "30"))
MAX_ROUNDS = int(os.environ.get("INV_MAX_ROUNDS", "200"))
MIN_ROUNDS = int(os.environ.get("INV_MIN_ROUNDS", "5"))
POOL = 16  # live users kept ready for the scenarios (a round uses 12)

failures = 0
lock = threading.Lock()


def out(kind, msg):
    with lock:
        print(f"{kind} {msg}", flush=True)


def check(ok, msg):
    global failures
    if not ok:
        failures += 1
    out("PASS" if ok else "FAIL", msg)
    return ok


base = urllib.parse.urlsplit(os.environ["BASE_URL"])
_seq = [0]


def fresh_email(tag):
    with lock:
        _seq[0] += 1
        n = _seq[0]
    return f"inv-{tag}-{os.getpid()}-{n}-{random.randrange(1 << 30)}@example.com"


def call(method, path, body=None, headers=None):
    """One request on its own connection: (status, parsed JSON or None). Status 0 = no answer."""
    h = {"Connection": "close"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    try:
        c = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        c.close()
    except OSError as e:
        return 0, {"error": str(e)}
    try:
        return r.status, json.loads(raw) if raw else None
    except ValueError:
        return r.status, None


class User:
    def __init__(self, body):
        self.id = body["id"]
        self.email = body["email"]
        self.version = body["version"]  # of the last successful write
        self.ok_patches = 0  # PATCH 200s, each one version bump

    def saw(self, body):
        """Takes a 200 PATCH answer into account."""
        self.ok_patches += 1
        if body["version"] > self.version:
            self.version, self.email = body["version"], body["email"]


users = {}  # id -> User, the users this test owns and believes alive
deleted = set()
stats = {"requests": 0, "bad": 0}
codes = {}  # scenario -> {status/code: n}


def code_of(status, body):
    c = body.get("code") if isinstance(body, dict) else None
    return f"{status}" + (f" {c}" if c else "")


def run_batch(pool, jobs):
    """jobs: [(scenario, method, path, body, headers)] fired at once -> [(status, body)]."""
    futs = [pool.submit(call, m, p, b, h) for (_, m, p, b, h) in jobs]
    res = [f.result() for f in futs]
    stats["requests"] += len(jobs)
    for (sc, *_), (st, body) in zip(jobs, res):
        d = codes.setdefault(sc, {})
        k = code_of(st, body)
        d[k] = d.get(k, 0) + 1
    return res


def bad(scenario, allowed, st, body):
    """Counts and reports an answer outside the allowed set ('200', '409 email_taken', ...)."""
    k = code_of(st, body)
    if k in allowed or str(st) in allowed:
        return False
    stats["bad"] += 1
    if stats["bad"] <= 10:
        check(False, f"{scenario}: unexpected answer {k} (allowed: {', '.join(sorted(allowed))}) {json.dumps(body)[:200]}")
    return True


def create_users(pool, n):
    res = run_batch(pool, [("setup", "POST", "/users", {"name": "Inv", "email": fresh_email("u")}, None)
                           for _ in range(n)])
    for st, body in res:
        if st == 201:
            u = User(body)
            users[u.id] = u
        else:
            bad("setup create", {"201"}, st, body)


def patch(u, body, sc, if_match=None):
    return (sc, "PATCH", f"/users/{u.id}", body, {"If-Match": f'"{if_match}"'} if if_match else None)


def one_round(pool, rnd):
    live = list(users.values())
    random.shuffle(live)
    if len(live) < 12:
        return False
    swap, rot, chain = live[0:2], live[2:5], live[5:8]
    im, dl, un, held = live[8], live[9], live[10], live[11]
    race_email = fresh_email("race")
    chain_new = fresh_email("chain")
    im_emails = [fresh_email("im") for _ in range(3)]
    dl_email = fresh_email("del")
    jobs, what = [], []

    def add(job, tag):
        jobs.append(job)
        what.append(tag)

    for _ in range(8):
        add(("create race", "POST", "/users", {"name": "Racer", "email": race_email}, None), ("race",))
    for _ in range(2):
        add(("create taken", "POST", "/users", {"name": "Late", "email": held.email.upper()}, None), ("taken",))
    add(patch(swap[0], {"email": swap[1].email}, "swap"), ("noop", swap[0]))
    add(patch(swap[1], {"email": swap[0].email}, "swap"), ("noop", swap[1]))
    for i in range(3):
        add(patch(rot[i], {"email": rot[(i + 1) % 3].email}, "rotation"), ("noop", rot[i]))
    add(patch(chain[0], {"email": chain_new}, "chain"), ("chain", chain[0]))
    add(patch(chain[1], {"email": chain[0].email}, "chain"), ("chain", chain[1]))
    add(patch(chain[2], {"email": chain[1].email}, "chain"), ("chain", chain[2]))
    v = im.version
    for i in range(6):
        body = {"email": im_emails[i // 2]} if i % 2 == 0 else {"note": f"r{rnd}-{i}"}
        add(patch(im, body, "same If-Match", v), ("ifmatch", im))
    add(("delete race", "DELETE", f"/users/{dl.id}", None, None), ("delete", dl))
    add(patch(dl, {"email": dl_email}, "delete race"), ("delpatch", dl))
    add(patch(dl, {"note": "a"}, "delete race"), ("delpatch", dl))
    add(patch(dl, {"note": "b", "title": None}, "delete race"), ("delpatch", dl))
    for i in range(3):
        add(patch(un, {"count": i}, "unconditional"), ("plain", un))
    order = list(range(len(jobs)))
    random.shuffle(order)
    jobs = [jobs[i] for i in order]
    what = [what[i] for i in order]

    before = {u.id: (u.email, u.version) for u in live}
    res = run_batch(pool, jobs)

    wins = 0
    im_ok = 0
    for (sc, *_), tag, (st, body) in zip(jobs, what, res):
        kind = tag[0]
        if kind == "race":
            if not bad(sc, {"201", "409 email_taken"}, st, body) and st == 201:
                wins += 1
                u = User(body)
                users[u.id] = u
        elif kind == "taken":
            bad(sc, {"409 email_taken"}, st, body)
        elif kind == "noop":
            bad(sc, {"409 email_taken"}, st, body)
        elif kind == "chain":
            if not bad(sc, {"200", "409 email_taken", "409 concurrent_update"}, st, body) and st == 200:
                tag[1].saw(body)
        elif kind == "ifmatch":
            if not bad(sc, {"200", "412", "409 concurrent_update"}, st, body) and st == 200:
                im_ok += 1
                tag[1].saw(body)
        elif kind == "plain":
            if not bad(sc, {"200"}, st, body):
                tag[1].saw(body)
        elif kind == "delpatch":
            if not bad(sc, {"200", "404", "409 concurrent_update"}, st, body) and st == 200:
                tag[1].saw(body)
        elif kind == "delete":
            if not bad(sc, {"200", "409 concurrent_update"}, st, body) and st == 200:
                deleted.add(dl.id)
    if dl.id in deleted:
        users.pop(dl.id, None)
    ok = True
    if wins != 1:
        ok = check(False, f"round {rnd}: 8 concurrent POSTs with one email gave {wins} answers 201, not 1")
    if im_ok != 1:
        ok = check(False, f"round {rnd}: 6 PATCHes with If-Match \"{v}\" gave {im_ok} answers 200, not 1")
    for u in swap + rot:
        if (u.email, u.version) != before[u.id]:
            ok = check(False, f"round {rnd}: a swap/rotation member moved ({before[u.id]} -> {(u.email, u.version)})")
    return ok


def scan_table():
    import boto3
    from botocore.config import Config

    c = boto3.client(
        "dynamodb",
        endpoint_url=os.environ["E2E_MOTO_URL"],
        region_name="us-east-1",
        aws_access_key_id=os.environ["E2E_AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["E2E_AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 2}),
    )
    items = []
    for page in c.get_paginator("scan").paginate(TableName=os.environ["E2E_TABLE"], ConsistentRead=True):
        items.extend(page["Items"])
    return items


def audit():
    items = scan_table()
    guards, table_users = {}, {}
    for it in items:
        iid = it["id"]["S"]
        if iid.startswith("email#"):
            guards[iid[len("email#"):]] = it
        else:
            table_users[iid] = it
    out("INFO", f"audit: {len(table_users)} users and {len(guards)} guard items in {os.environ['E2E_TABLE']}")
    problems = []
    by_email = {}
    for uid, it in table_users.items():
        email = it.get("email", {}).get("S")
        if email is None:
            problems.append(f"user {uid} has no email")
            continue
        by_email.setdefault(email, []).append(uid)
        g = guards.get(email)
        if g is None:
            problems.append(f"user {uid} has no guard for its email")
        elif g.get("userId", {}).get("S") != uid:
            problems.append(f"user {uid}: the guard of its email names {g.get('userId')}")
    for email, ids in by_email.items():
        if len(ids) > 1:
            problems.append(f"{len(ids)} users share one email: {', '.join(sorted(ids))}")
    per_owner = {}
    for email, g in guards.items():
        owner = g.get("userId", {}).get("S")
        if set(g) != {"id", "userId"} or owner is None:
            problems.append(f"guard email#… has attributes {sorted(g)}, not exactly id and userId")
        per_owner[owner] = per_owner.get(owner, 0) + 1
        u = table_users.get(owner)
        if u is None:
            problems.append(f"orphan guard: its user {owner} does not exist")
        elif u.get("email", {}).get("S") != email:
            problems.append(f"guard points at user {owner}, whose email is another one")
    for owner, n in per_owner.items():
        if n > 1:
            problems.append(f"user {owner} owns {n} guards")
    check(not problems, f"audit: every user has exactly its own guard, every guard its user, no shared email "
          f"({len(problems)} problems{': ' + '; '.join(problems[:8]) if problems else ''})")

    mism = []
    for u in users.values():
        it = table_users.get(u.id)
        if it is None:
            mism.append(f"user {u.id} is missing")
            continue
        ver = int(it["version"]["N"])
        if ver != 1 + u.ok_patches or ver != u.version or it["email"]["S"] != u.email:
            mism.append(f"user {u.id}: version {ver}, expected {1 + u.ok_patches} (1 + successful PATCHes) "
                        f"and {u.version} (last write seen); email {'matches' if it['email']['S'] == u.email else 'differs'}")
    for uid in deleted:
        if uid in table_users:
            mism.append(f"user {uid} answered 200 to DELETE but is still there")
    check(not mism, f"audit: {len(users)} live users have version 1 + their successful PATCHes and the email of "
          f"their last write; {len(deleted)} deleted users are gone ({len(mism)} mismatches"
          f"{': ' + '; '.join(mism[:8]) if mism else ''})")


def main():
    t0 = time.monotonic()
    rounds = clean = 0
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        create_users(pool, POOL)
        while rounds < MAX_ROUNDS and time.monotonic() - t0 < SECONDS:
            if len(users) < POOL:
                create_users(pool, POOL - len(users))
            if len(users) < 12:
                check(False, "could not keep 12 live users for a round")
                break
            rounds += 1
            clean += one_round(pool, rounds)
    took = time.monotonic() - t0
    check(rounds >= MIN_ROUNDS, f"ran {rounds} rounds in {took:.1f}s (at least {MIN_ROUNDS})")
    check(clean == rounds, f"{clean} of {rounds} rounds had exactly one winner per race and no swap/rotation moved")
    check(stats["bad"] == 0, f"{stats['requests']} requests, {stats['bad']} answers outside the documented ones")
    out("INFO", f"{rounds} rounds, {stats['requests']} requests, {PARALLEL} in parallel, {took:.1f}s; "
        f"{len(users)} live users, {len(deleted)} deleted")
    for sc in sorted(codes):
        out("INFO", f"  {sc}: " + ", ".join(f"{k} x{n}" for k, n in sorted(codes[sc].items())))
    t1 = time.monotonic()
    audit()
    out("INFO", f"audit took {time.monotonic() - t1:.1f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
