// The build step of each workspace package: minifies its src/ into dist/ with terser (a
// devDependency of the workspace root: the built packages need only their runtime dependencies).
const fs = require("fs");
const path = require("path");
const { minify } = require("terser");

const source = path.join(process.cwd(), "src");
const output = path.join(process.cwd(), "dist");
const name = require(path.join(process.cwd(), "package.json")).name;

async function build() {
  fs.rmSync(output, { recursive: true, force: true });
  fs.mkdirSync(output, { recursive: true });
  for (const file of fs.readdirSync(source).filter((f) => f.endsWith(".js")).sort()) {
    const code = fs.readFileSync(path.join(source, file), "utf8");
    const result = await minify(code, { module: false, compress: true, mangle: true });
    fs.writeFileSync(path.join(output, file), result.code + "\n");
    console.log(`build ${name}: src/${file} -> dist/${file}`);
  }
}

build().catch((err) => {
  console.error(err);
  process.exit(1);
});
