// A small legacy scheduler service: serves its job table as JSON.
const http = require("http");
const { schedule } = require("./jobs");

function handler(req, res) {
  if (req.url === "/jobs") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(schedule()));
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
  console.log(`node-build-app: GET /jobs -> ${await get(port, "/jobs")}`);
  console.log(`node-build-app: GET /nope -> ${await get(port, "/nope")}`);
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
