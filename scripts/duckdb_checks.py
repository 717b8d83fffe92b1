#!/usr/bin/env python3
"""The same checks as driftwatch's detectors, written as a competent analyst would in DuckDB SQL,
for the benchmark (scripts/bench.sh). Prints JSON: seconds, and findings per detector.

usage: duckdb_checks.py SCENARIO_DIR   (a `driftwatch generate --format parquet` output)
"""
import glob, json, sys, time, tomllib
import duckdb

root = sys.argv[1]
started = time.time()
con = duckdb.connect()
rows = {k: [] for k in ["versions", "datasets", "roles", "purposes", "purpose_roles", "purpose_categories", "recipients", "recipient_categories"]}
for index, path in enumerate(sorted(glob.glob(f"{root}/register/*.toml"))):
    doc = tomllib.load(open(path, "rb"))
    rows["versions"].append((index, doc["in_force_from"], doc.get("in_force_until", "9999-01-01")))
    for d in doc.get("dataset", []):
        rows["datasets"].append((index, d["id"], d.get("retention_days")))
    for r in doc.get("role", []):
        rows["roles"].append((index, r["id"], r.get("management", False)))
    for p in doc.get("purpose", []):
        for d in p["datasets"]:
            rows["purposes"].append((index, p["id"], d, p.get("monitoring"), p.get("min_group_size")))
        rows["purpose_roles"] += [(index, p["id"], r) for r in p.get("roles", [])]
        rows["purpose_categories"] += [(index, p["id"], c) for c in p.get("categories", [])]
    for r in doc.get("recipient", []):
        for d in r["datasets"]:
            rows["recipients"].append((index, r["id"], d, r["mode"]))
            rows["recipient_categories"] += [(index, r["id"], d, c) for c in r.get("categories", [])]
schemas = {
    "versions": "idx INT, vfrom DATE, vuntil DATE",
    "datasets": "idx INT, dataset VARCHAR, retention_days INT",
    "roles": "idx INT, role VARCHAR, management BOOLEAN",
    "purposes": "idx INT, purpose VARCHAR, dataset VARCHAR, monitoring VARCHAR, min_group_size INT",
    "purpose_roles": "idx INT, purpose VARCHAR, role VARCHAR",
    "purpose_categories": "idx INT, purpose VARCHAR, category VARCHAR",
    "recipients": "idx INT, recipient VARCHAR, dataset VARCHAR, mode VARCHAR",
    "recipient_categories": "idx INT, recipient VARCHAR, dataset VARCHAR, category VARCHAR",
}
for name, schema in schemas.items():
    con.execute(f"CREATE TABLE {name} ({schema})")
    if rows[name]:
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[name][0]))})", rows[name])
con.execute(f"CREATE TABLE grants AS SELECT * FROM read_csv('{root}/habilitations.csv', all_varchar=true)")
con.execute(f"""CREATE VIEW ev AS SELECT e.*, d.idx FROM read_parquet('{root}/events/*.parquet') e
  LEFT JOIN datasets d ON d.dataset = e.dataset
  JOIN versions v ON v.idx = d.idx AND e.ts >= v.vfrom AND e.ts < v.vuntil""")
counts = {}
def count(name, sql):
    counts[name] = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]

count("undeclared_recipient", """SELECT recipient, dataset FROM ev e WHERE action IN ('export','transfer') AND recipient IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.idx = e.idx AND r.recipient = e.recipient AND r.dataset = e.dataset)
  GROUP BY recipient, dataset""")
count("category_creep", """WITH c AS (SELECT e.event_id, e.idx, e.dataset, e.recipient, e.action, unnest(e.categories) AS category FROM ev e),
  sent AS (SELECT c.* FROM c JOIN recipients r ON r.idx = c.idx AND r.recipient = c.recipient AND r.dataset = c.dataset
           WHERE c.action IN ('export','transfer')),
  reads AS (SELECT * FROM c WHERE NOT (action IN ('export','transfer') AND recipient IS NOT NULL))
  SELECT 'recipient', recipient, dataset FROM sent s WHERE NOT EXISTS (SELECT 1 FROM recipient_categories k
     WHERE k.idx = s.idx AND k.recipient = s.recipient AND k.dataset = s.dataset AND (s.category = k.category OR s.category LIKE k.category || '.%'))
  GROUP BY recipient, dataset
  UNION ALL
  SELECT 'purpose', '', dataset FROM reads x WHERE NOT EXISTS (SELECT 1 FROM purposes p JOIN purpose_categories k ON k.idx = p.idx AND k.purpose = p.purpose
     WHERE p.idx = x.idx AND p.dataset = x.dataset AND (x.category = k.category OR x.category LIKE k.category || '.%'))
  GROUP BY dataset""")
count("individual_monitoring", """SELECT actor_id, e.dataset FROM ev e JOIN roles r ON r.idx = e.idx AND r.role = e.actor_role AND r.management
  JOIN purposes p ON p.idx = e.idx AND p.dataset = e.dataset AND p.monitoring = 'aggregate_only'
  WHERE (target_agent IS NOT NULL AND target_agent <> actor_id) OR report_kind = 'ranking' OR (report_kind = 'per_agent' AND target_agent IS NULL)
  GROUP BY actor_id, e.dataset""")
count("small_cell", """SELECT actor_id, e.dataset FROM ev e JOIN purposes p ON p.idx = e.idx AND p.dataset = e.dataset AND p.monitoring = 'aggregate_only'
  WHERE group_size < p.min_group_size AND target_agent IS NULL GROUP BY actor_id, e.dataset""")
count("outside_habilitation", """WITH allowed AS (SELECT DISTINCT p.idx, p.dataset, r.role FROM purposes p JOIN purpose_roles r ON r.idx = p.idx AND r.purpose = p.purpose)
  SELECT actor_id, 'role' FROM ev e WHERE NOT EXISTS (SELECT 1 FROM allowed a WHERE a.idx = e.idx AND a.dataset = e.dataset AND a.role = e.actor_role)
  GROUP BY actor_id
  UNION ALL
  SELECT actor_id, 'grant' FROM ev e WHERE EXISTS (SELECT 1 FROM allowed a WHERE a.idx = e.idx AND a.dataset = e.dataset AND a.role = e.actor_role)
   AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.actor_id = e.actor_id AND g.role = e.actor_role
     AND CAST(g.granted_at AS TIMESTAMP) <= e.ts AND (g.revoked_at IS NULL OR e.ts < CAST(g.revoked_at AS TIMESTAMP))
     AND (g.scope = '*' OR e.actor_unit IS NULL OR g.scope = e.actor_unit))
  GROUP BY actor_id""")
count("retention_overrun", """SELECT e.dataset, action FROM ev e JOIN datasets d ON d.idx = e.idx AND d.dataset = e.dataset
  WHERE action IN ('read','search','export','transfer') AND record_date IS NOT NULL AND d.retention_days IS NOT NULL
    AND record_date + d.retention_days < CAST(e.ts AS DATE) GROUP BY e.dataset, action""")
print(json.dumps({"seconds": round(time.time() - started, 2), "findings": counts}))
