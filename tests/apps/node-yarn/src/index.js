// A small legacy service: tells which releases satisfy a semver range, as JSON
// (GET /releases?range=^1.2.0). `--self-test` prints the answers to a few ranges.
const http = require("http");
const semver = require("semver");

const RELEASES = ["1.0.0", "1.2.3", "1.10.0", "2.0.0-rc.1", "2.0.0", "2.1.4", "3.0.0"];

// The answer to a range: [status, body].
function releases(range) {
  if (!semver.validRange(range)) {
    return [400, { error: `not a range: ${range}` }];
  }
  const matching = RELEASES.filter((release) => semver.satisfies(release, range));
  return [200, { range, matching, latest: semver.maxSatisfying(RELEASES, range), sorted: semver.rsort([...matching]) }];
}

if (process.argv.includes("--self-test")) {
  for (const range of ["^1.2.0", ">=2.0.0", "~2.1", "2.x || <1.1", "nonsense"]) {
    const [status, body] = releases(range);
    console.log(`node-yarn-app: ${range} -> ${status} ${JSON.stringify(body)}`);
  }
  console.log(`node-yarn-app: semver ${require("semver/package.json").version}`);
} else {
  http
    .createServer((req, res) => {
      const url = new URL(req.url, "http://localhost");
      const [status, body] = url.pathname === "/releases" ? releases(url.searchParams.get("range") || "*") : [404, { error: "not found" }];
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    })
    .listen(8080, () => console.log("listening on 8080"));
}
