import { randomUUID } from 'node:crypto';
import { defineHandler, type FlowDefinition, type StepHandler, StepResults } from '@floworch/core';
import { z } from 'zod';

/** The order-fulfilment flow: validate → (reserve stock ∥ charge card ∥ gift wrap?) → ship → notify. */
export const orderFlow: FlowDefinition = {
  id: '6f1c2a0e-5b7d-4c1e-9a53-2f0d8e4b7c11',
  name: 'OrderFulfilment',
  version: '1.0',
  triggers: { manual: { type: 'Manual' } },
  steps: {
    validate: { type: 'ValidateOrder', inputs: { order: '@triggerBody()' } },
    reserveStock: {
      type: 'ReserveStock',
      runAfter: { validate: ['Succeeded'] },
      inputs: { items: '@triggerBody().items' },
    },
    chargeCard: {
      type: 'ChargeCard',
      runAfter: { validate: ['Succeeded'] },
      inputs: { amount: "@steps('validate').output.total" },
      // The payment gateway is flaky: retry up to 3 attempts with a short backoff.
      retry: { maxAttempts: 3, delayMs: 200, backoff: 'exponential' },
    },
    giftWrap: {
      type: 'GiftWrap',
      runAfter: { validate: { statuses: ['Succeeded'], when: '@triggerBody().giftWrap == true' } },
    },
    ship: {
      type: 'Ship',
      runAfter: { reserveStock: ['Succeeded'], chargeCard: ['Succeeded'] },
      inputs: { reservation: "@steps('reserveStock').output.reservationId" },
    },
    notify: {
      type: 'Notify',
      runAfter: { ship: ['Succeeded'] },
      inputs: { tracking: "@steps('ship').output.tracking", email: '@triggerBody().email' },
    },
  },
};

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** Handlers; `workMs` slows them down so a demo run can be interrupted mid-way. */
export function orderHandlers(workMs = 150): Record<string, StepHandler> {
  const failedOnce = new Set<string>();
  return {
    ValidateOrder: defineHandler({
      input: z.object({
        order: z.object({
          items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive(), price: z.number() })),
        }),
      }),
      execute: async ({ inputs, signal }) => {
        await pause(workMs, signal);
        return { total: inputs.order.items.reduce((sum, i) => sum + i.qty * i.price, 0) };
      },
    }),
    ReserveStock: async ({ signal }) => {
      await pause(workMs, signal);
      return { reservationId: `res-${randomUUID().slice(0, 8)}` };
    },
    ChargeCard: async ({ runId, inputs, signal }) => {
      await pause(workMs, signal);
      // The first attempt of every run fails, to show the retry policy at work.
      if (!failedOnce.has(runId)) {
        failedOnce.add(runId);
        throw new Error('payment gateway timed out');
      }
      return { charged: inputs.amount };
    },
    GiftWrap: async ({ signal }) => {
      await pause(workMs, signal);
      return { paper: 'blue' };
    },
    Ship: async ({ signal }) => {
      await pause(workMs, signal);
      return { tracking: `TRK${Math.floor(Math.random() * 1e6)}` };
    },
    Notify: async ({ inputs, signal }) => {
      await pause(workMs / 2, signal);
      return StepResults.succeeded({ sentTo: inputs.email });
    },
  };
}
