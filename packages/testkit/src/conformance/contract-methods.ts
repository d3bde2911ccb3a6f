import type { FlowStorage, StorageCapability } from '@floworch/core';

/** The contracts of a `FlowStorage` bundle: the three required ones and every capability. */
export type ContractName = 'flows' | 'runs' | 'outputs' | StorageCapability;

/**
 * Every method each storage contract must have (optional methods such as
 * `outputs.recordEvents` are left out). Kept beside the cases so a contract that is present but
 * incomplete fails with the missing method's name rather than a `TypeError` deep in a case.
 */
export const CONTRACT_METHODS: Readonly<Record<ContractName, readonly string[]>> = Object.freeze({
  flows: ['getAll', 'getById', 'save', 'delete', 'setEnabled'],
  runs: [
    'startRun',
    'getDerivedRuns',
    'recordStepStart',
    'recordStepComplete',
    'completeRun',
    'completeRunIfActive',
    'getRuns',
    'getRunsPage',
    'getRunDetail',
    'getStatistics',
    'getRunTimeseries',
    'getActiveRuns',
    'retryStep',
    'resetCascadeSkippedDependents',
    'tryRecordDispatch',
    'annotateDispatch',
    'releaseDispatch',
    'getDispatchedStepKeys',
  ],
  outputs: [
    'saveStepOutput',
    'saveStepInput',
    'saveTriggerData',
    'saveTriggerHeaders',
    'getTriggerData',
    'getTriggerHeaders',
    'getStepOutput',
    'getStepInput',
    'recordEvent',
  ],
  queue: ['startRun', 'transact', 'take', 'startStep', 'renew', 'release', 'wake', 'nextVisibleAt'],
  runtime: [
    'getStepStatuses',
    'getClaimedStepKeys',
    'getStepClaim',
    'tryClaimStep',
    'renewStepClaim',
    'releaseStepClaim',
    'getExpiredClaims',
    'recordSkippedStep',
    'getRunStatus',
  ],
  control: [
    'configureRun',
    'getRunControl',
    'requestCancel',
    'markTimedOut',
    'extendDeadline',
    'getRunsPastDeadline',
    'findRunIdByIdempotencyKey',
    'tryRegisterIdempotencyKey',
  ],
  retention: ['cleanup'],
  events: ['getRunEvents'],
  signals: ['registerWaiter', 'deliverSignal', 'getWaiter', 'removeWaiter'],
  schedules: ['get', 'getAll', 'save', 'delete'],
  webhookReplay: ['tryRegister', 'purgeExpired'],
  webhookRejections: ['write', 'queryRecent', 'query', 'countsByReason', 'purgeOlderThan'],
});

/** `contract.method` names that are not functions on `storage` (empty when the contract is whole). */
export function missingMethods(storage: FlowStorage, contract: ContractName): string[] {
  const target = storage[contract] as unknown as Record<string, unknown> | undefined;
  return CONTRACT_METHODS[contract]
    .filter((method) => typeof target?.[method] !== 'function')
    .map((method) => `${contract}.${method}`);
}
