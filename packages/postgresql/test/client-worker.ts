// Child process of client-process.test.ts: an orchestrator that executes whatever is queued
// until the parent sends SIGTERM; it defines the flow, the parent's client only names it.
import { createFlowOrchestrator, silentLogger } from '@floworch/core';
import { createPostgresStorage } from '../src/index.js';

const storage = await createPostgresStorage({
  connectionString: process.env.PG_URL!,
  schema: process.env.PG_SCHEMA!,
});
const orchestrator = createFlowOrchestrator({
  storage,
  flows: [
    {
      id: 'greeting',
      name: 'Greeting',
      steps: {
        greet: { type: 'Greet', inputs: { name: '@triggerBody().name' } },
        shout: {
          type: 'Shout',
          runAfter: { greet: ['Succeeded'] },
          inputs: { text: "@steps('greet').output" },
        },
      },
    },
  ],
  logger: silentLogger,
  maintenanceIntervalMs: 0,
  handlers: {
    Greet: ({ inputs }) => `hello ${String(inputs.name)} from ${process.pid}`,
    Shout: ({ inputs }) => String(inputs.text).toUpperCase(),
  },
});
await orchestrator.start();
process.stdout.write('READY\n');
process.once('SIGTERM', () => {
  void orchestrator
    .stop()
    .then(() => storage.close())
    .then(() => process.exit(0));
});
