#!/usr/bin/env python3
"""Reads a list's CSV back with Python's csv module and with pandas, and checks both equal
the same list's JSON items, cell by cell, under the flattening rules the README gives:
a heading path joined with " > ", lists of strings with "; ", booleans as true/false, null
as an empty cell, a cell a spreadsheet would read as a formula with a leading "'".

    csv_roundtrip.py ITEMS.json LIST.csv

ITEMS.json holds the JSON array of the list's items. Exits 0 when every row matches, 1
with the first difference otherwise, 3 when pandas is not installed.
"""
import csv
import json
import sys

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value, column):
    """The CSV cell a JSON value becomes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return (" > " if column in ("section", "previous_section") else "; ").join(value)
    if isinstance(value, (int, float, str)):
        return str(value)
    return None  # nested values have their own flattening; not compared here


def unprotected(text):
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def compare(rows, items, reader):
    if len(rows) != len(items):
        sys.exit(f"{reader}: {len(rows)} rows for {len(items)} items")
    compared = 0
    for i, (row, item) in enumerate(zip(rows, items)):
        for column, text in row.items():
            if column not in item:
                continue
            expected = cell(item[column], column)
            if expected is None:
                continue
            got = unprotected(text)
            if isinstance(item[column], float):
                same = abs(float(got) - item[column]) <= 1e-6 * max(1.0, abs(item[column]))
            else:
                same = got == expected
            if not same:
                sys.exit(f"{reader}: row {i}, column {column}: {got!r} != {expected!r}")
            compared += 1
    return compared


def main():
    items_path, csv_path = sys.argv[1:3]
    with open(items_path, encoding="utf-8") as f:
        items = json.load(f)
    with open(csv_path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    compared = compare(rows, items, "csv module")
    try:
        import pandas
    except ImportError:
        print("pandas is not installed", file=sys.stderr)
        sys.exit(3)
    frame = pandas.read_csv(csv_path, dtype=str, keep_default_na=False)
    compare(frame.to_dict("records"), items, "pandas")
    print(f"{len(items)} rows, {compared} cells equal to the JSON (csv module and pandas)")


if __name__ == "__main__":
    main()
