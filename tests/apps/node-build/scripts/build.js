// The build step: minifies every file of src/ into dist/ with terser (a devDependency: the built
// app needs only its runtime dependencies).
const fs = require("fs");
const path = require("path");
const { minify } = require("terser");

const source = path.join(__dirname, "..", "src");
const output = path.join(__dirname, "..", "dist");

async function build() {
  fs.rmSync(output, { recursive: true, force: true });
  fs.mkdirSync(output, { recursive: true });
  for (const name of fs.readdirSync(source).filter((file) => file.endsWith(".js")).sort()) {
    const code = fs.readFileSync(path.join(source, name), "utf8");
    const result = await minify(code, { module: false, compress: true, mangle: true });
    fs.writeFileSync(path.join(output, name), result.code + "\n");
    console.log(`build: src/${name} -> dist/${name} (${code.length} -> ${result.code.length} bytes)`);
  }
}

build().catch((err) => {
  console.error(err);
  process.exit(1);
});
