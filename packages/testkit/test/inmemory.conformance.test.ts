import { STORAGE_CAPABILITIES } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { defineStorageConformance } from '../src/index.js';

defineStorageConformance({
  name: 'inmemory',
  capabilities: STORAGE_CAPABILITIES,
  setup: async ({ clock }) => {
    const storage = createInMemoryStorage({ clock });
    return { storage, openPeer: async () => storage.createPeer() };
  },
});
