"""Compare two fanwen databases row by row: a site and the restore of its backup, say.

    python deploy/compare_databases.py postgres://…/fanwen postgres://…/fanwen_check

For articles (and their pieces), orders and entitlements it matches the rows of both databases
by a natural key — an article by its public id (/a/<id>.html), a piece by (article, position),
an order by out_trade_no, an entitlement by its order's out_trade_no (else by whom, what and
when) — and compares every column, with foreign keys read as the other row's natural key (a
category by its slug, a plan by its code, a user by username). Surrogate ids need not match.
Prints the rows compared and every difference per table; exits 1 if any differ.
Needs read access to both (psycopg, installed with the app).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.rows import dict_row

# Referenced table → the column that names its rows.
NAMES = {
    "library_category": "slug",
    "library_article": "id",
    "orders_plan": "code",
    "orders_order": "out_trade_no",
    "auth_user": "username",
    "accounts_visitor": "id",
}
# Compared table → {column: referenced table}, and its natural key from a translated row.
TABLES: dict[str, tuple[dict[str, str], Callable[[dict[str, Any]], tuple]]] = {
    "library_article": ({"category_id": "library_category"}, lambda r: (r["id"],)),
    "library_piece": (
        {"article_id": "library_article", "duplicate_of_id": "library_piece"},
        lambda r: (r["article_id"], r["position"]),
    ),
    "orders_order": (
        {
            "article_id": "library_article",
            "plan_id": "orders_plan",
            "user_id": "auth_user",
            "refund_requested_by_id": "auth_user",
            "visitor_id": "accounts_visitor",
        },
        lambda r: (r["out_trade_no"],),
    ),
    "orders_entitlement": (
        {
            "order_id": "orders_order",
            "article_id": "library_article",
            "user_id": "auth_user",
            "granted_by_id": "auth_user",
            "visitor_id": "accounts_visitor",
        },
        lambda r: (
            (r["order_id"],)
            if r["order_id"]
            else (None, r["kind"], r["user_id"], r["visitor_id"], r["article_id"], r["created_at"])
        ),
    ),
}


def names(conn: psycopg.Connection) -> dict[str, dict[Any, Any]]:
    """Per referenced table: surrogate id → natural name."""
    found = {
        table: dict(conn.execute(f'SELECT id, "{column}" FROM {table}').fetchall())  # noqa: S608
        for table, column in NAMES.items()
    }
    # A piece is named by its article and position.
    found["library_piece"] = {
        row[0]: (row[1], row[2])
        for row in conn.execute("SELECT id, article_id, position FROM library_piece")
    }
    return found


def rows(conn: psycopg.Connection, table: str) -> dict[tuple, dict[str, Any]]:
    references, key = TABLES[table]
    named = names(conn)
    out: dict[tuple, dict[str, Any]] = {}
    with conn.cursor(row_factory=dict_row) as cursor:
        for row in cursor.execute(f"SELECT * FROM {table}"):  # noqa: S608
            for column, target in references.items():
                if row[column] is not None:
                    row[column] = named[target].get(row[column], ("missing", row[column]))
            if table != "library_article":
                row.pop("id")
            natural = key(row)
            if natural in out:
                raise SystemExit(f"{table}: two rows with the natural key {natural}")
            out[natural] = row
    return out


def compare(first: str, second: str, shown: int = 10) -> int:
    """Print the comparison; the number of differences."""
    total = 0
    with psycopg.connect(first) as a, psycopg.connect(second) as b:
        print(f"{'table':22} {'rows':>6} {'rows':>6} {'compared':>9} {'differ':>7}")
        for table in TABLES:
            left, right = rows(a, table), rows(b, table)
            problems = [f"only in the first: {k}" for k in left.keys() - right.keys()]
            problems += [f"only in the second: {k}" for k in right.keys() - left.keys()]
            both = sorted(left.keys() & right.keys(), key=repr)
            fields = 0
            for natural in both:
                for column in sorted(left[natural].keys() | right[natural].keys()):
                    fields += 1
                    x, y = left[natural].get(column), right[natural].get(column)
                    if x != y:
                        problems.append(f"{natural} {column}: {x!r:.80} != {y!r:.80}")
            print(
                f"{table:22} {len(left):>6} {len(right):>6} {len(both):>9} {len(problems):>7}"
                f"   ({fields} fields)"
            )
            for problem in problems[:shown]:
                print(f"    {problem}")
            total += len(problems)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", help="DATABASE_URL of one database")
    parser.add_argument("second", help="DATABASE_URL of the other")
    args = parser.parse_args(argv)
    differences = compare(args.first, args.second)
    print("same rows, same values" if not differences else f"{differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
