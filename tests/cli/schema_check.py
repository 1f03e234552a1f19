#!/usr/bin/env python3
"""Validate spec files against a JSON Schema, as an editor would.

usage: schema_check.py SCHEMA FILE...

Every YAML document of every FILE (empty documents skipped) is checked
with a Draft 2020-12 validator.  Prints one line per problem,
"FILE: document N: PATH: MESSAGE", and exits 1 when there was any, 0 when
all documents passed, 2 on a usage error or a file that is not YAML.
"""
import sys

import jsonschema
import yaml


def leaves(errors):
    """The errors that say what is wrong: for a oneOf or anyOf that failed,
    those of the branch that came closest, not the "is not valid under any
    of the given schemas" summary.  The closest branch is the one whose
    "const" (kind) matched, then one that is not the null of an optional
    key, then the one with the fewest errors."""
    out = []
    for e in errors:
        if not e.context:
            out.append(e)
            continue
        branches = {}
        for c in e.context:
            branches.setdefault(c.schema_path[0], []).append(c)
        best = min(branches.values(),
                   key=lambda b: (sum(c.validator == "const" for c in b),
                                  sum(c.validator_value == "null" for c in b),
                                  len(b)))
        out.extend(leaves(best))
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = yaml.safe_load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    problems = 0
    for path in argv[2:]:
        try:
            with open(path, encoding="utf-8-sig") as f:
                docs = list(yaml.safe_load_all(f))
        except (OSError, yaml.YAMLError) as e:
            print("%s: %s" % (path, str(e).replace("\n", " ")), file=sys.stderr)
            return 2
        for n, doc in enumerate(docs, 1):
            if doc is None:
                continue
            for e in leaves(validator.iter_errors(doc)):
                where = ".".join(str(p) for p in e.absolute_path) or "(document)"
                msg = e.message if len(e.message) <= 200 else e.message[:197] + "..."
                print("%s: document %d: %s: %s" % (path, n, where, msg))
                problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
