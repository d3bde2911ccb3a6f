export {
  checkStorageHealth,
  STORAGE_HEALTH_CHECK,
  type StorageHealth,
  type StorageHealthOptions,
} from './storage-health.js';
