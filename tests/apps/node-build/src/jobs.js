// The job table of the legacy scheduler: each job runs every `every` (an ms-style duration).
const ms = require("ms");

const JOBS = [
  { name: "backup", every: "1d" },
  { name: "cleanup", every: "6h" },
  { name: "heartbeat", every: "30s" },
];

function schedule() {
  return JOBS.map((job) => ({ name: job.name, everyMs: ms(job.every), every: ms(ms(job.every), { long: true }) }));
}

module.exports = { schedule };
