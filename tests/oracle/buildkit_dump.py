#!/usr/bin/env python3
"""Dump BuildKit's own parse (PyPI `dockerfile`, the Go parser wrapped) of each file named on stdin.

One JSON object per input line: {"path", "ok", "error", "instructions": [...]}. The Rust parity
test compares dockopt's parser with this output.
"""
import json
import sys

import dockerfile


def dump(path):
    try:
        cmds = dockerfile.parse_file(path)
    except dockerfile.GoParseError as e:
        return {"path": path, "ok": False, "error": str(e), "instructions": []}
    return {
        "path": path,
        "ok": True,
        "error": None,
        "instructions": [
            {
                "cmd": c.cmd.upper(),
                "sub_cmd": c.sub_cmd.upper() if c.sub_cmd else None,
                "json": c.json,
                "start_line": c.start_line,
                "end_line": c.end_line,
                "flags": list(c.flags),
                "value": list(c.value),
                "heredocs": [{"name": h.name, "content": h.content} for h in c.heredocs],
            }
            for c in cmds
        ],
    }


def main():
    for line in sys.stdin:
        path = line.rstrip("\n")
        if path:
            print(json.dumps(dump(path)), flush=False)


if __name__ == "__main__":
    main()
