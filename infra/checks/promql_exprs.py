#!/usr/bin/env python3
"""Collect the PromQL expressions of the alert rules and the Grafana
dashboards, with a few structural checks, as JSON for promql-parse.mjs.

usage: promql_exprs.py RULES.yml... -- DASHBOARD.json...  > exprs.json
Exits non-zero (with messages on stderr) on a structural problem.
"""
import json
import re
import sys

import yaml

errors = []
exprs = []


def grafana_to_promql(expr):
    # Grafana variables: range selectors and label values.
    expr = re.sub(r"\$__(rate_)?interval|\$__range", "5m", expr)
    return expr


def check_rules(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    names = set()
    for group in doc.get("groups", []):
        if not group.get("name"):
            errors.append(f"{path}: a group without a name")
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            where = f"{path}: {name or '<unnamed rule>'}"
            if not name:
                errors.append(f"{where}: neither alert nor record")
                continue
            if "alert" in rule:
                if name in names:
                    errors.append(f"{where}: duplicate alert name")
                names.add(name)
                if rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                    errors.append(f"{where}: labels.severity must be critical, warning or info")
                if not rule.get("annotations", {}).get("summary"):
                    errors.append(f"{where}: no annotations.summary")
                if "for" in rule and not re.fullmatch(r"\d+[smhd]", str(rule["for"])):
                    errors.append(f"{where}: bad duration for: {rule['for']!r}")
            if not str(rule.get("expr", "")).strip():
                errors.append(f"{where}: empty expr")
            else:
                exprs.append({"where": where, "expr": str(rule["expr"])})
    if not names:
        errors.append(f"{path}: no alert rules")


def check_dashboard(path):
    with open(path) as f:
        doc = json.load(f)
    if not doc.get("uid") or not doc.get("title"):
        errors.append(f"{path}: a dashboard needs uid and title")
    ids = set()

    def walk(panels):
        for panel in panels:
            pid = panel.get("id")
            if pid in ids:
                errors.append(f"{path}: duplicate panel id {pid}")
            ids.add(pid)
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                if "expr" in target:
                    exprs.append({
                        "where": f"{path}: panel {panel.get('title')!r} {target.get('refId')}",
                        "expr": grafana_to_promql(target["expr"]),
                    })

    walk(doc.get("panels", []))
    for var in doc.get("templating", {}).get("list", []):
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if var.get("type") == "query" and isinstance(query, str):
            # label_values(METRIC{...}, label): check the selector part.
            m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", query)
            if not m:
                errors.append(f"{path}: variable {var.get('name')}: unsupported query {query!r}")
            else:
                exprs.append({"where": f"{path}: variable {var.get('name')}", "expr": m.group(1)})


def main(argv):
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    for path in argv[:split]:
        check_rules(path)
    for path in argv[split + 1:]:
        check_dashboard(path)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    json.dump(exprs, sys.stdout, indent=1)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
