"""A legacy catalog service: looks products up in the CSV files it ships with, and keeps a
local index file next to them (so it must own its folder)."""
import csv
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load():
    products = {}
    for path in sorted((HERE / "catalog").glob("*.csv")):
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                products[row["sku"]] = row
    return products


def self_test():
    products = load()
    print(f"catalog: {len(products)} products")
    print(f"catalog: SKU-00042 -> {products['SKU-00042']['name']}")
    # Writes beside its files: fails unless the folder belongs to the user the app runs as.
    index = HERE / "index.txt"
    index.write_text("\n".join(sorted(products)) + "\n")
    print(f"catalog: index written, {len(index.read_text().splitlines())} lines")
    owned = all(p.stat().st_uid == os.getuid() for p in HERE.rglob("*"))
    print(f"catalog: every file owned by the app's user: {owned}")
    index.unlink()


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        self_test()
    else:
        print("usage: app.py --self-test")
