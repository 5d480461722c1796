// A small legacy service: tells which releases satisfy a range, as JSON.
const http = require("http");
const semver = require("semver");

const RELEASES = ["1.0.0", "1.2.3", "1.10.0", "2.0.0-rc.1", "2.0.0", "2.1.4", "3.0.0"];

function handler(req, res) {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/releases") {
    const range = url.searchParams.get("range") || "*";
    if (!semver.validRange(range)) {
      res.writeHead(400);
      res.end("bad range");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ range, matching: RELEASES.filter((r) => semver.satisfies(r, range)), latest: semver.maxSatisfying(RELEASES, range) }));
  } else {
    res.writeHead(404);
    res.end("not found");
  }
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path }, (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve(`${res.statusCode} ${body}`));
      })
      .on("error", reject);
  });
}

async function selfTest() {
  const server = http.createServer(handler).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.on("listening", resolve));
  const port = server.address().port;
  for (const path of ["/releases?range=%5E1.2.0", "/releases?range=%3E%3D2.0.0", "/releases?range=nonsense", "/nope"]) {
    console.log(`node-yarn-app: GET ${path} -> ${await get(port, path)}`);
  }
  server.close();
}

if (process.argv.includes("--self-test")) {
  selfTest().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  http.createServer(handler).listen(8080, () => console.log("listening on 8080"));
}
