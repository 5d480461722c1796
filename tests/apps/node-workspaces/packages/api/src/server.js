// A small legacy status service of the workspace: serves uptime targets through the shared
// formatting package (@legacy/format, linked in node_modules to packages/format).
const http = require("http");
const ms = require("ms");
const { duration, release } = require("@legacy/format");

const targets = ["90s", "2h", "3d"];

function handler(req, res) {
  if (req.url === "/status") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ release: release("2.4.1"), targets: targets.map((t) => duration(ms(t))) }));
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
  console.log(`node-workspaces: GET /status -> ${await get(port, "/status")}`);
  console.log(`node-workspaces: GET /nope -> ${await get(port, "/nope")}`);
  server.close();
}

if (process.argv.includes("--self-test")) {
  selfTest().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  http.createServer(handler).listen(3000, () => console.log("listening on 3000"));
}
