// Reads the HdrHistogram interval logs of `primetime compare -hlog DIR -json FILE` with
// hdr-histogram-js, a reader primetime did not write, and fails unless each run's log has its
// intervals, each with as many latencies as the run's JSON says it answered.
const fs = require("fs");
const path = require("path");
const hdr = require("hdr-histogram-js");
const [dir, json] = process.argv.slice(2);
const cmp = JSON.parse(fs.readFileSync(json, "utf8"));
let failed = false;
for (const res of cmp.results) {
  // The run's name is its row's label and, for a row that ran more than once, " #N".
  const runName = res.run ? `${res.label} #${res.run}` : res.label;
  const name = runName.replace(/[ ]/g, "-").replace(/[/:]/g, "_").replace(/[\[\]#]/g, "") + ".hlog";
  const reader = new hdr.HistogramLogReader(fs.readFileSync(path.join(dir, name), "utf8"));
  const counts = [];
  let h;
  while ((h = reader.nextIntervalHistogram()) !== null) counts.push(h.totalCount);
  const want = res.intervals.map(iv => iv.answers);
  if (JSON.stringify(counts) !== JSON.stringify(want)) {
    console.log(`FAIL ${name}: counts ${JSON.stringify(counts)}, the run answered ${JSON.stringify(want)}`);
    failed = true;
    continue;
  }
  console.log(`ok   ${name}: ${counts.length} intervals, ${counts.reduce((a, b) => a + b, 0)} latencies`);
}
process.exit(failed ? 1 : 0);
