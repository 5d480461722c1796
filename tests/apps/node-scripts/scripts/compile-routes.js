// postinstall: compiles the route definitions of routes/*.json into one table,
// generated/routes.json, that the server loads at start-up (it never reads routes/ itself).
const fs = require("fs");
const path = require("path");
const ms = require("ms");

const root = path.join(__dirname, "..");
const table = [];
for (const name of fs.readdirSync(path.join(root, "routes")).filter((f) => f.endsWith(".json")).sort()) {
  const routes = JSON.parse(fs.readFileSync(path.join(root, "routes", name), "utf8"));
  for (const route of routes) {
    table.push({ method: route.method, path: route.path, handler: route.handler, cacheMs: ms(route.cache || "0s") });
  }
}
fs.mkdirSync(path.join(root, "generated"), { recursive: true });
fs.writeFileSync(path.join(root, "generated", "routes.json"), JSON.stringify(table, null, 2) + "\n");
console.log(`postinstall: ${table.length} routes compiled into generated/routes.json`);
