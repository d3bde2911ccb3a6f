import { definePollingHandler, type FlowDefinition, type StepHandler } from '@floworch/core';

/** ForEach: resize every image of an upload, two at a time, then publish the album. */
export const albumFlow: FlowDefinition = {
  id: '9a0e6d1c-2b44-4f3a-8c55-1d2e3f4a5b61',
  name: 'Album',
  steps: {
    images: {
      type: 'ForEach',
      forEach: '@triggerBody().images',
      concurrencyLimit: 2,
      steps: {
        resize: { type: 'Resize', inputs: { url: '@loopItem().url', width: 640 } },
        thumbnail: {
          type: 'Thumbnail',
          runAfter: { resize: ['Succeeded'] },
          inputs: { from: "@steps('resize').output.url" },
        },
      },
    },
    publish: {
      type: 'Publish',
      runAfter: { images: ['Succeeded'] },
      inputs: { album: '@triggerBody().album' },
    },
  },
};

/** Polling: wait until a (simulated) export job reports `done`, checking every 30 s for up to 10 min. */
export const exportFlow: FlowDefinition = {
  id: '9a0e6d1c-2b44-4f3a-8c55-1d2e3f4a5b62',
  name: 'Export',
  steps: {
    start: { type: 'StartExport' },
    wait: {
      type: 'AwaitExport',
      runAfter: { start: ['Succeeded'] },
      inputs: { jobId: "@steps('start').output.jobId", pollIntervalSeconds: 30, pollTimeoutSeconds: 600 },
    },
    download: {
      type: 'Download',
      runAfter: { wait: ['Succeeded'] },
      inputs: { url: "@steps('wait').output.url" },
    },
  },
};

/** Approval: park until a manager approves (WaitForSignal), or give up after a day. */
export const expenseFlow: FlowDefinition = {
  id: '9a0e6d1c-2b44-4f3a-8c55-1d2e3f4a5b63',
  name: 'Expense',
  steps: {
    submit: { type: 'Submit', inputs: { amount: '@triggerBody().amount' } },
    approval: {
      type: 'WaitForSignal',
      runAfter: { submit: ['Succeeded'] },
      inputs: { signalName: 'manager-decision', timeoutSeconds: 86_400 },
    },
    pay: {
      type: 'Pay',
      runAfter: { approval: { statuses: ['Succeeded'], when: "@steps('approval').output.approved == true" } },
      inputs: { amount: '@triggerBody().amount' },
    },
  },
};

/** Handlers for all three flows. `exportReadyAfter` is how many polls the export takes. */
export function patternHandlers(exportReadyAfter = 3): Record<string, StepHandler> {
  const polls = new Map<string, number>();
  return {
    Resize: ({ inputs }) => ({ url: `${String(inputs.url)}?w=${String(inputs.width)}` }),
    Thumbnail: ({ inputs }) => ({ thumb: `${String(inputs.from)}&thumb=1` }),
    Publish: ({ inputs }) => ({ published: inputs.album }),
    StartExport: () => ({ jobId: `job-${Math.floor(Math.random() * 1e6)}` }),
    AwaitExport: definePollingHandler({
      fetch: ({ inputs }) => {
        const id = String(inputs.jobId);
        const n = (polls.get(id) ?? 0) + 1;
        polls.set(id, n);
        return n >= exportReadyAfter
          ? { status: 'done', url: `https://files.example.com/${id}.zip` }
          : { status: 'running' };
      },
      until: (job) => job.status === 'done',
    }),
    Download: ({ inputs }) => ({ saved: inputs.url }),
    Submit: ({ inputs }) => ({ amount: inputs.amount }),
    Pay: ({ inputs }) => ({ paid: inputs.amount }),
  };
}
