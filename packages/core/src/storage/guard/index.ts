export {
  type StorageErrorCode,
  StorageErrorCodes,
  type StorageErrorTranslator,
  storageClosedError,
  translateStorageError,
} from './error-codes.js';
export {
  defineStorage,
  type GuardStorageOptions,
  guardStorage,
  type StorageDefinition,
} from './guard-storage.js';
