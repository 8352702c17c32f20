#!/usr/bin/python3
"""Checks recorded API answers against the daemon's OpenAPI document.

Usage: openapi_check.py OPENAPI_JSON < answers.json
answers.json: [{"method", "route", "status", "content_type", "body"}], route as in the document
("/v1/deployments/{name}"). Every answer's status must be documented for its route and method,
and its body must validate against the documented schema (JSON lines: each line). Prints one
line per problem; exits 1 if there is any.
"""
import json
import sys

import jsonschema


def main():
    doc = json.load(open(sys.argv[1]))
    answers = json.load(sys.stdin)
    problems = []
    for a in answers:
        where = f'{a["method"]} {a["route"]} -> {a["status"]}'
        op = doc["paths"].get(a["route"], {}).get(a["method"].lower())
        if op is None:
            problems.append(f"{where}: route not documented")
            continue
        resp = op["responses"].get(str(a["status"]))
        if resp is None:
            problems.append(f"{where}: status not documented")
            continue
        ctype = a["content_type"].split(";")[0].strip()
        content = resp.get("content", {})
        if ctype not in content:
            problems.append(f"{where}: content type {ctype} not documented ({list(content)})")
            continue
        schema = dict(content[ctype]["schema"])
        schema["components"] = doc["components"]
        if ctype == "text/plain":
            continue
        bodies = [a["body"]]
        if ctype == "application/x-ndjson":
            bodies = [json.loads(line) for line in a["body"].splitlines() if line.strip()]
        else:
            bodies = [json.loads(a["body"])]
        for body in bodies:
            try:
                jsonschema.validate(body, schema)
            except jsonschema.ValidationError as e:
                problems.append(f"{where}: {e.message} at {list(e.absolute_path)}")
    for p in problems:
        print(p)
    print(f"{len(answers)} answers checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
