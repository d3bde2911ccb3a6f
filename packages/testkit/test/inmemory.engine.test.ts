import { createInMemoryStorage } from '@floworch/inmemory';
import { defineEngineConformance } from '../src/index.js';

defineEngineConformance({
  name: 'inmemory',
  setup: async () => ({ storage: createInMemoryStorage() }),
});
