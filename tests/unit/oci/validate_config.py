#!/usr/bin/python3
"""Validates an OCI runtime config.json (read from stdin) against the runtime-spec JSON schemas.

Usage: validate_config.py SCHEMA_DIR < config.json
Exit 0 when valid; 1 with one "path: message" line per violation; 2 on bad input.
"""
import json
import pathlib
import sys

import jsonschema


def main() -> int:
    schema_dir = pathlib.Path(sys.argv[1]).resolve()
    schema = json.loads((schema_dir / "config-schema.json").read_text())
    try:
        config = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        print(f"config is not JSON: {e}")
        return 2
    # The schemas refer to their siblings ("defs.json#/...", "config-linux.json#/linux"):
    # resolve those relative to the schema directory.
    resolver = jsonschema.RefResolver(base_uri=schema_dir.as_uri() + "/", referrer=schema)
    validator = jsonschema.Draft4Validator(schema, resolver=resolver)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        where = "/".join(map(str, e.absolute_path)) or "<root>"
        print(f"{where}: {e.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
