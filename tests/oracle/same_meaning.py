#!/usr/bin/env python3
"""Does a formatted Dockerfile mean what the original meant? Both are read by BuildKit's own parser
(PyPI `dockerfile`, the Go parser wrapped) and compared instruction by instruction:

- the same instructions (keyword, ONBUILD trigger), flags, JSON arrays and heredoc bodies, exactly;
- ENV and LABEL values equal after BuildKit's quote removal (`"a b"` is `a\\ b`);
- other arguments equal once whitespace outside quotes is collapsed (and, in shell-form scripts,
  removed next to an unquoted `;`, `&` or `|`: the shell reads `a;b` and `a ; b` alike); `AS` in
  `FROM … AS name` and HEALTHCHECK's `CMD`/`NONE` are compared without case (BuildKit does);
- the same parser directives (`# syntax=`, `# escape=`, `# check=`).

Input on stdin: one `ORIGINAL<TAB>FORMATTED` pair of paths a line. Output: one JSON object a line,
{"original", "formatted", "ok", "problem"}. With --sorted-packages, shell scripts are compared as
sorted lists of words (sort-packages reorders install lists). Used by tests/format_corpus.rs and
scripts/compare_formatters.py.
"""
import argparse
import json
import re
import sys

import dockerfile

SHELL_FORM = {"RUN", "CMD", "ENTRYPOINT"}
DIRECTIVE = re.compile(r"^#[ \t\n\f\r]*([a-zA-Z][a-zA-Z0-9]*)[ \t\n\f\r]*=[ \t\n\f\r]*(.+?)[ \t\n\f\r]*$")


def directives(text):
    """BuildKit's parser directives: leading `# name=value` lines with a known name."""
    found = []
    for line in text.lstrip("\ufeff").split("\n"):
        m = DIRECTIVE.match(line.rstrip("\r").lstrip(" \t\v\f\r\n"))
        if not m or m.group(1).lower() not in ("syntax", "escape", "check"):
            break
        found.append((m.group(1).lower(), m.group(2)))
    return found


def squeeze(text, escape, shell):
    """Whitespace outside quotes collapsed to one space and trimmed; in a shell script, none next
    to an unquoted, unescaped `;`, `&` or `|` (the same as the formatter's own check)."""
    out = []
    quote = None
    space = False
    after_op = False
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        if quote:
            out.append(c)
            if c == quote:
                quote = None
            elif c == escape and quote == '"' and i < len(text):
                out.append(text[i])
                i += 1
            continue
        if c in " \t":
            space = True
            continue
        is_op = shell and c in ";&|"
        if space and out and not after_op and not is_op:
            out.append(" ")
        space = False
        out.append(c)
        after_op = is_op
        if c in "'\"":
            quote = c
        elif c == escape and i < len(text):
            out.append(text[i])
            i += 1
    return "".join(out)


def sorted_words(text):
    spaced = []
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "\\":
            spaced.append(c)
            if i < len(text):
                spaced.append(text[i])
                i += 1
            continue
        elif c in ";&|":
            spaced.append(" " + c + " ")
            continue
        spaced.append(c)
    return sorted(re.findall(r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""", "".join(spaced)))


def unquote(text, escape):
    """BuildKit's quote removal for ENV/LABEL values (`"a b"`, `'a b'` and `a\\ b` are the same
    value; variables are not expanded), so an equivalent requoting is not a change of meaning."""
    out = []
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        if quote == "'":
            if c == "'":
                quote = None
            else:
                out.append(c)
        elif quote == '"':
            if c == '"':
                quote = None
            elif c == escape and i < len(text):
                n = text[i]
                i += 1
                if n not in '"$`' and n != escape:
                    out.append(c)
                out.append(n)
            else:
                out.append(c)
        elif c in "'\"":
            quote = c
        elif c == escape and i < len(text):
            out.append(text[i])
            i += 1
        else:
            out.append(c)
    return "".join(out)


def shell_value(text, sorted_packages):
    s = squeeze(text, "\\", True)
    return sorted_words(s) if sorted_packages else s


def shape(cmd, escape, sorted_packages):
    kind = (cmd.sub_cmd or cmd.cmd).upper()
    value = list(cmd.value)
    if cmd.json:
        norm = value
    elif kind in SHELL_FORM:
        norm = [shell_value(v, sorted_packages) for v in value]
    elif kind == "HEALTHCHECK":
        norm = [v.upper() if n == 0 else shell_value(v, sorted_packages) for n, v in enumerate(value)]
    elif kind in ("ENV", "LABEL"):
        norm = [unquote(v, escape) for v in value]
    elif kind == "FROM" and len(value) == 3 and value[1].lower() == "as":
        norm = [value[0], "AS", value[2]]
    else:
        norm = [squeeze(v, escape, False) for v in value]
    return {
        "cmd": cmd.cmd.upper(),
        "sub_cmd": cmd.sub_cmd.upper() if cmd.sub_cmd else None,
        "json": cmd.json,
        "flags": list(cmd.flags),
        "value": norm,
        "heredocs": [(h.name, h.content) for h in cmd.heredocs],
    }


def read(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    found = directives(text)
    escape = "`" if ("escape", "`") in found else "\\"
    return text, found, escape


def compare(original, formatted, sorted_packages):
    """None when the two mean the same, else what differs."""
    try:
        text_a, dir_a, esc_a = read(original)
        text_b, dir_b, esc_b = read(formatted)
    except (OSError, UnicodeError) as e:
        return f"cannot read: {e}"
    if dir_a != dir_b:
        return f"directives {dir_a} became {dir_b}"
    try:
        a = dockerfile.parse_file(original)
    except dockerfile.GoParseError as e:
        return None if _fails(formatted) else f"the original does not parse ({e}) but the output does"
    try:
        b = dockerfile.parse_file(formatted)
    except dockerfile.GoParseError as e:
        return f"the output does not parse: {e}"
    if len(a) != len(b):
        return f"{len(a)} instructions became {len(b)}"
    for x, y in zip(a, b):
        sx, sy = shape(x, esc_a, sorted_packages), shape(y, esc_b, sorted_packages)
        if sx != sy:
            return f"line {x.start_line}: {sx} became {sy}"
    return None


def _fails(path):
    try:
        dockerfile.parse_file(path)
        return False
    except dockerfile.GoParseError:
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sorted-packages", action="store_true")
    args = ap.parse_args()
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        original, formatted = line.split("\t")
        problem = compare(original, formatted, args.sorted_packages)
        print(json.dumps({"original": original, "formatted": formatted, "ok": problem is None, "problem": problem}))


if __name__ == "__main__":
    main()
