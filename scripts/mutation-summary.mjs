// Prints the mutation score of the last `pnpm mutate` run and lists the surviving mutants
// (file:line, mutator, replacement), read from Stryker's JSON report.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync('reports/mutation/mutation.json', 'utf8'));
const counts = {};
const survivors = [];
for (const [file, { mutants }] of Object.entries(report.files)) {
  for (const m of mutants) {
    counts[m.status] = (counts[m.status] ?? 0) + 1;
    if (m.status === 'Survived' || m.status === 'NoCoverage')
      survivors.push(
        `${m.status === 'NoCoverage' ? 'no coverage' : 'survived'}  ${file}:${m.location.start.line}  ${m.mutatorName}  ${JSON.stringify(m.replacement ?? '')}`,
      );
  }
}
const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
const undetected = (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
const score = (100 * detected) / (detected + undetected);
console.log(`mutation score ${score.toFixed(2)} % — ${JSON.stringify(counts)}`);
for (const s of survivors) console.log(s);
