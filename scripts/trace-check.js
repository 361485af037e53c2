// Reads each trace named on the command line with @tracerbench/trace-model,
// a reader of the Trace Event Format written elsewhere, and fails unless it
// finds every event of the file on a named thread of a named process.
const fs = require("fs");
const { buildModel } = require("@tracerbench/trace-model");
let failed = false;
for (const path of process.argv.slice(2)) {
  const data = JSON.parse(fs.readFileSync(path, "utf8"));
  const want = data.traceEvents.filter(e => e.ph !== "M").length;
  let model;
  try {
    model = buildModel(data);
  } catch (err) {
    console.log(`FAIL ${path}: ${err.message}`); failed = true; continue;
  }
  let got = 0, threads = 0, unnamed = [];
  for (const p of model.processes) {
    if (!p.name) unnamed.push(`process ${p.id}`);
    for (const t of p.threads) {
      threads++;
      if (!t.name) unnamed.push(`thread ${p.id}/${t.id}`);
      got += t.events.filter(e => e.ph !== "M").length;
    }
  }
  if (got !== want || unnamed.length > 0 || want === 0) {
    console.log(`FAIL ${path}: ${got} of ${want} events read; unnamed: ${unnamed.join(", ") || "none"}`); failed = true; continue;
  }
  console.log(`ok   ${path}: ${got} events on ${threads} threads of ${model.processes.length} processes`);
}
process.exit(failed ? 1 : 0);
