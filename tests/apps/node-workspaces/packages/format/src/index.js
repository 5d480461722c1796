// Formatting helpers shared by the workspace's services.
const ms = require("ms");
const semver = require("semver");

// ms 2.0.0 (this package's own, not the API's 2.1.3) prints long durations this way.
function duration(milliseconds) {
  return ms(milliseconds, { long: true });
}

function release(version) {
  const parsed = semver.parse(version);
  return parsed ? `v${parsed.major}.${parsed.minor} (patch ${parsed.patch})` : "unknown";
}

module.exports = { duration, release };
