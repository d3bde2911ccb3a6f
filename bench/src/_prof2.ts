import { createFlowOrchestrator, silentLogger } from '@floworch/core';
import { createPgliteStorage, createPostgresStorage } from '@floworch/postgresql';
const pgMode = process.argv.includes('--pg');
const schema = `prof_${Date.now()}`;
const storage = pgMode ? await createPostgresStorage({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', schema }) : await createPgliteStorage({});
// time every statement by its first words
const stats = new Map<string, { n: number; ms: number }>();
const db = storage.db as any;
const exec = db.getExecutor();
const orig = exec.executeQuery.bind(exec);
const proto = Object.getPrototypeOf(exec);
const origProto = proto.executeQuery;
proto.executeQuery = async function (compiled: any, qid: any) {
  const t = performance.now();
  try { return await origProto.call(this, compiled, qid); } finally {
    const sqlText: string = compiled.sql.replace(/\s+/g, ' ').trim();
    const key = sqlText.slice(0, 60);
    const s = stats.get(key) ?? { n: 0, ms: 0 }; s.n++; s.ms += performance.now() - t; stats.set(key, s);
  }
};
void orig;
const flow = { id: '0b5c2f0e-8a43-4a59-9d1a-6f3c1f1f0a01', name: 'c', steps: { a: { type: 'W' }, b: { type: 'W', runAfter: { a: ['Succeeded'] } }, c: { type: 'W', runAfter: { b: ['Succeeded'] } } } };
const o = createFlowOrchestrator({ storage, flows: [flow], handlers: { W: () => 1 }, logger: silentLogger, maintenanceIntervalMs: 0 });
await o.start();
stats.clear();
let done = 0; const t0 = performance.now();
const N = 30;
const finished = new Promise<void>((r) => o.subscribe((e) => { if (e.type === 'run.completed' && ++done === N) r(); }));
for (let i = 0; i < N; i++) await o.trigger(flow.id);
await finished;
console.log(pgMode ? 'pg' : 'pglite', ((performance.now() - t0)).toFixed(0), `ms for ${N*3} steps`);
for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) console.log(s.n, s.ms.toFixed(0), (s.ms / s.n).toFixed(2), k);
await o.stop(); 
if (pgMode) await (await import('kysely')).sql`DROP SCHEMA ${(await import('kysely')).sql.id(schema)} CASCADE`.execute(storage.db as any);
await storage.close();
