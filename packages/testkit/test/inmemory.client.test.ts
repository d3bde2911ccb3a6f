import { createInMemoryStorage } from '@floworch/inmemory';
import { defineClientConformance } from '../src/index.js';

defineClientConformance({
  name: 'inmemory',
  setup: async () => ({ storage: createInMemoryStorage() }),
});
