// prepare: records the name and version of the build in generated/build-info.json, which the
// server prints in its banner.
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
fs.mkdirSync(path.join(root, "generated"), { recursive: true });
const info = { name: pkg.name, version: pkg.version, routes: fs.readdirSync(path.join(root, "routes")).length };
fs.writeFileSync(path.join(root, "generated", "build-info.json"), JSON.stringify(info) + "\n");
console.log(`prepare: build info for ${pkg.name}@${pkg.version}`);
