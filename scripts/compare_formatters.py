#!/usr/bin/env python3
"""Dockerfile formatters side by side on the corpus: dockopt format, dprint-plugin-dockerfile
(npm @dprint/formatter + @dprint/dockerfile, the Wasm plugin dprint runs) and dockerfile-utils'
formatter (npm, the one behind the VS Code Docker extension's language server).

Usage (from the repo root; needs python3 with `pip install -r tests/requirements.txt`, node, npm):

    python3 scripts/compare_formatters.py [--corpus DIR]

Every tool formats every file of ../shared/corpus with its default settings. For each tool it
prints: files changed; files whose meaning changed (tests/oracle/same_meaning.py on BuildKit's own
parser: the same check the test suite makes of dockopt); files it failed on (an error, or output
BuildKit cannot parse); and the wall-clock time of the whole run (one process per tool, start-up
included). The npm packages are installed into .ci/node (git-ignored).
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / ".ci" / "node"
ORACLE = ROOT / "tests" / "oracle" / "same_meaning.py"
PACKAGES = ["@dprint/formatter@0.6.0", "@dprint/dockerfile@0.6.0", "dockerfile-utils@0.16.3"]

# Formats each file named on stdin (one path a line) into OUT/<index>.Dockerfile; prints one JSON
# line per file: {"index", "ok", "error"}.
NODE_RUNNER = r"""
const fs = require("fs");
const path = require("path");
const [tool, out] = process.argv.slice(2);
let formatText;
if (tool === "dprint") {
  const { createFromBuffer } = require("@dprint/formatter");
  const plugin = require("@dprint/dockerfile");
  const formatter = createFromBuffer(fs.readFileSync(plugin.getPath()));
  formatter.setConfig({}, {});
  formatText = (file, text) => formatter.formatText({ filePath: file, fileText: text });
} else {
  const utils = require("dockerfile-utils");
  // LSP text edits (UTF-16 positions) applied back to front.
  formatText = (file, text) => {
    const edits = utils.format(text, { insertSpaces: true, tabSize: 4 });
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
    const offset = (p) => Math.min((starts[p.line] ?? text.length) + p.character, text.length);
    const sorted = edits.map((e) => [offset(e.range.start), offset(e.range.end), e.newText]).sort((a, b) => b[0] - a[0]);
    let result = text;
    for (const [s, e, t] of sorted) result = result.slice(0, s) + t + result.slice(e);
    return result;
  };
}
const files = fs.readFileSync(0, "utf8").split("\n").filter(Boolean);
files.forEach((file, index) => {
  try {
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(path.join(out, `${index}.Dockerfile`), formatText(file, text));
    console.log(JSON.stringify({ index, ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ index, ok: false, error: String(e).split("\n")[0] }));
  }
});
"""


def npm_install():
    wanted = [NODE_DIR / "node_modules" / p.rsplit("@", 1)[0] for p in PACKAGES]
    if all(p.exists() for p in wanted):
        return
    subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR), *PACKAGES],
        check=True,
    )


def run_node(tool, files, out):
    runner = out / "runner.js"
    runner.write_text(NODE_RUNNER)
    start = time.perf_counter()
    p = subprocess.run(
        ["node", str(runner), tool, str(out)],
        input="\n".join(str(f) for f in files),
        capture_output=True,
        text=True,
        env={"NODE_PATH": str(NODE_DIR / "node_modules"), "PATH": subprocess.os.environ["PATH"]},
    )
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{tool}: node exited {p.returncode}: {p.stderr[-2000:]}")
    failed = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        if not r["ok"]:
            failed[r["index"]] = r["error"]
    return elapsed, failed


def run_dockopt(files, out):
    """`dockopt format` on copies of the files, one process; files it refuses count as failed."""
    dockopt = ROOT / "target" / "release" / "dockopt"
    for index, f in enumerate(files):
        shutil.copyfile(f, out / f"{index}.Dockerfile")
    start = time.perf_counter()
    p = subprocess.run([str(dockopt), "format", str(out)], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    failed = {}
    for line in p.stderr.splitlines():
        head = line.split(":", 1)[0]
        if head.endswith(".Dockerfile") and Path(head).stem.isdigit():
            failed.setdefault(int(Path(head).stem), line[len(head) + 1 :].strip())
    return elapsed, failed


def meaning_changes(pairs):
    """The pairs BuildKit reads differently: {index: problem}."""
    p = subprocess.run(
        [sys.executable, str(ORACLE)],
        input="".join(f"{a}\t{b}\n" for _, a, b in pairs),
        capture_output=True,
        text=True,
        check=True,
    )
    answers = [json.loads(line) for line in p.stdout.splitlines()]
    return {index: a["problem"] for (index, _, _), a in zip(pairs, answers) if not a["ok"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--examples", type=int, default=3, help="meaning changes shown per tool")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    npm_install()
    files = sorted(args.corpus.glob("*/Dockerfile"))
    print(f"{len(files)} Dockerfiles from {args.corpus}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for tool in ["dockopt", "dprint", "dockerfile-utils"]:
            out = Path(tmp) / tool
            out.mkdir()
            if tool == "dockopt":
                elapsed, failed = run_dockopt(files, out)
            else:
                elapsed, failed = run_node(tool, files, out)
            pairs = []
            changed = 0
            for index, f in enumerate(files):
                result = out / f"{index}.Dockerfile"
                if index in failed or not result.exists():
                    continue
                if result.read_bytes() != f.read_bytes():
                    changed += 1
                    pairs.append((index, f, result))
            problems = meaning_changes(pairs)
            # Output BuildKit cannot parse is a failure, not a meaning change.
            unparsable = {i: p for i, p in problems.items() if p.startswith("the output does not parse")}
            for i in unparsable:
                problems.pop(i)
                failed[i] = unparsable[i]
            rows.append((tool, changed, len(problems), len(failed), elapsed))
            for index, problem in list(problems.items())[: args.examples]:
                print(f"  {tool}: meaning changed: {files[index].parent.name}: {problem[:300]}")
            for index, error in list(failed.items())[: args.examples]:
                print(f"  {tool}: failed: {files[index].parent.name}: {error[:200]}")
    print()
    print("| formatter | files changed | meaning changed | failed | time (whole corpus) |")
    print("|---|---:|---:|---:|---:|")
    for tool, changed, meaning, failed, elapsed in rows:
        print(f"| {tool} | {changed} | {meaning} | {failed} | {elapsed:.2f} s |")


if __name__ == "__main__":
    main()
