// A small legacy Express service: a greeting and a word counter.
const http = require("http");
const express = require("express");

const app = express();
app.use(express.text());

app.get("/", (req, res) => res.send("hello from a legacy express app"));
app.post("/count", (req, res) => {
  const text = req.body || "";
  res.json({ words: text.split(/\s+/).filter(Boolean).length, chars: text.length });
});

function request(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path, headers: { "content-type": "text/plain" } },
      (res) => {
        let data = "";
        res.on("data", (chunk) => (data += chunk));
        res.on("end", () => resolve(`${res.statusCode} ${data}`));
      }
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function selfTest() {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.on("listening", resolve));
  const port = server.address().port;
  console.log(`express-app: GET / -> ${await request(port, "GET", "/")}`);
  console.log(`express-app: POST /count -> ${await request(port, "POST", "/count", "the quick brown fox")}`);
  server.close();
}

if (process.argv.includes("--self-test")) {
  selfTest().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  app.listen(3000, () => console.log("listening on 3000"));
}
