#!/usr/bin/env python3
"""Runs every SQL statement the ClickHouse store issues on the current ClickHouse engine.

CI runs ClickHouse 18.16.1; production runs a current ClickHouse. This script executes
the store's statement catalog (written by packages/store-clickhouse's sqlCatalog(), see
src/current-engine.int.test.ts) in order, in an embedded chdb session, and round-trips
string literals produced by quoteString().

Usage: python3 deploy/chdb/check-sql.py CATALOG.json
  CATALOG.json: {"statements": [{"name", "sql"}], "literals": [{"value", "sql"}]}
Exit status: 0 all passed, 1 a statement or literal failed (named on stderr),
2 bad usage or input, 3 chdb is not installed (pip install -r deploy/chdb/requirements.txt).
"""
import json
import sys
import tempfile


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        from chdb import session as chdb_session
    except ImportError as err:
        print(f"chdb is not importable ({err}); run: python3 -m pip install -r deploy/chdb/requirements.txt", file=sys.stderr)
        return 3
    try:
        with open(argv[1], encoding="utf-8") as f:
            catalog = json.load(f)
        statements = catalog["statements"]
        literals = catalog.get("literals", [])
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"cannot read catalog {argv[1]}: {err}", file=sys.stderr)
        return 2

    import chdb

    with tempfile.TemporaryDirectory(prefix="phi-audit-chdb-") as path:
        sess = chdb_session.Session(path)
        try:
            version = sess.query("SELECT version()", "TSVRaw").bytes().decode().strip()
            print(f"chdb {chdb.__version__}, ClickHouse engine {version}")
            for i, st in enumerate(statements, 1):
                try:
                    sess.query(st["sql"])
                except Exception as err:  # chdb raises its own error types; report any
                    print(f"FAILED statement {i} '{st['name']}':\n{st['sql']}\n--- error ---\n{err}", file=sys.stderr)
                    return 1
                print(f"ok   {i:2d} {st['name']}")
            for i, lit in enumerate(literals, 1):
                expected = lit["value"].encode("utf-8")
                try:
                    got = sess.query(f"SELECT {lit['sql']}", "RawBLOB").bytes()
                except Exception as err:
                    print(f"FAILED literal {i} {lit['sql']!r}: {err}", file=sys.stderr)
                    return 1
                if got != expected:
                    print(f"FAILED literal {i} {lit['sql']!r}: got {got!r}, expected {expected!r}", file=sys.stderr)
                    return 1
            print(f"ok   {len(literals)} literals round-tripped")
        finally:
            sess.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
