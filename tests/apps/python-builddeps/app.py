"""A small legacy order-report job that talks to PostgreSQL through psycopg2.

`--self-test` needs no database: it checks that the compiled extension loads against libpq, then
renders the report for a fixed set of orders, quoting them the way they would be sent to the server.
"""
import sys

import psycopg2
import psycopg2.extensions

ORDERS = [("ORD-1", "widgets", 3, 250), ("ORD-2", "gadget's", 1, 1999), ("ORD-3", "sprockets", 12, 40)]


def quoted(value):
    """SQL literal for a value, as psycopg2 would send it (no connection needed for these types)."""
    return psycopg2.extensions.adapt(value).getquoted().decode()


def self_test():
    version = psycopg2.__version__.split(" ")[0]
    # The libpq loaded at run time; only its major version, so that a Debian point release of libpq5
    # between two builds (one from the layer cache, say) does not change the output.
    libpq_major = psycopg2.extensions.libpq_version() // 10000
    print(f"psycopg-app: psycopg2 {version}")
    print(f"psycopg-app: libpq {libpq_major}")
    total = 0
    for number, item, quantity, unit_cents in ORDERS:
        total += quantity * unit_cents
        print(f"psycopg-app: VALUES ({quoted(number)}, {quoted(item)}, {quoted(quantity)}, {quoted(unit_cents)})")
    print(f"psycopg-app: total {total / 100:.2f}")


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        self_test()
    else:
        print("usage: python3 app.py --self-test", file=sys.stderr)
        sys.exit(2)
