import { describe, expect, it } from 'vitest';
import { toManifest } from '../../src/engine/model/index.js';
import type { FlowDefinition } from '../../src/index.js';
import { toMermaid } from '../../src/services/index.js';

const STYLES = [
  'flowchart TD',
  '    classDef trigger fill:#e1f5ff,stroke:#0288d1',
  '    classDef entry fill:#c8e6c9,stroke:#388e3c',
  '    classDef polling fill:#fff9c4,stroke:#f57f17',
  '    classDef loop fill:#f3e5f5,stroke:#7b1fa2',
  '',
];
const text = (...lines: string[]) => `${lines.join('\n')}\n`;

const orders: FlowDefinition = {
  id: '7d4c1a2e-0000-4000-8000-000000000001',
  name: 'Orders',
  triggers: {
    manual: { type: 'Manual' },
    nightly: { type: 'Cron', inputs: { cronExpression: '0 2 * * *' } },
    'order-hook': { type: 'Webhook', inputs: { webhookSlug: 'orders' } },
  },
  steps: {
    validate: { type: 'Validate' },
    'charge-card': { type: 'Charge', runAfter: { validate: ['Succeeded'] } },
    reserve: { type: 'Reserve', runAfter: { validate: ['Succeeded'] } },
    ship: { type: 'Ship', runAfter: { 'charge-card': ['Succeeded'], reserve: ['Succeeded'] } },
    vip: {
      type: 'Notify',
      runAfter: { ship: { statuses: ['Succeeded'], when: '@triggerBody().tier == "gold"' } },
    },
    refund: { type: 'Refund', runAfter: { 'charge-card': ['Failed'] } },
    cleanup: { type: 'Cleanup', runAfter: { ship: ['Succeeded', 'Failed', 'Skipped'] } },
  },
};

const ORDERS = text(
  ...STYLES,
  '    T_manual["⚡ manual<br/>Manual"]:::trigger',
  '    T_nightly["⚡ nightly<br/>Cron 0 2 * * *"]:::trigger',
  '    T_order_hook["⚡ order-hook<br/>Webhook /orders"]:::trigger',
  '',
  '    validate["validate<br/><i>Validate</i>"]:::entry',
  '    charge_card["charge-card<br/><i>Charge</i>"]',
  '    reserve["reserve<br/><i>Reserve</i>"]',
  '    ship["ship<br/><i>Ship</i>"]',
  '    vip["vip<br/><i>Notify</i>"]',
  '    refund["refund<br/><i>Refund</i>"]',
  '    cleanup["cleanup<br/><i>Cleanup</i>"]',
  '',
  '    T_manual --> validate',
  '    T_nightly --> validate',
  '    T_order_hook --> validate',
  '',
  '    validate -- Succeeded --> charge_card',
  '    validate -- Succeeded --> reserve',
  '    charge_card -- Succeeded --> ship',
  '    reserve -- Succeeded --> ship',
  '    ship -- Succeeded when: @triggerBody().tier == #quot;gold#quot; --> vip',
  '    charge_card -- Failed --> refund',
  '    ship -- Succeeded|Failed|Skipped --> cleanup',
);

describe('toMermaid', () => {
  it('draws triggers, the entry step, fan-out/fan-in, a When label and a failure edge', () => {
    expect(toMermaid(orders)).toBe(ORDERS);
  });

  it('renders a flow and its manifest identically, deterministically', () => {
    expect(toMermaid(toManifest(orders))).toBe(ORDERS);
    expect(toMermaid(orders)).toBe(toMermaid(orders));
  });

  it('honours the toggles', () => {
    expect(
      toMermaid(orders, {
        applyStyling: false,
        includeTriggers: false,
        showStepTypes: false,
        direction: 'LR',
      }),
    ).toBe(
      text(
        'flowchart LR',
        '    validate["validate"]',
        '    charge_card["charge-card"]',
        '    reserve["reserve"]',
        '    ship["ship"]',
        '    vip["vip"]',
        '    refund["refund"]',
        '    cleanup["cleanup"]',
        '',
        '    validate -- Succeeded --> charge_card',
        '    validate -- Succeeded --> reserve',
        '    charge_card -- Succeeded --> ship',
        '    reserve -- Succeeded --> ship',
        '    ship -- Succeeded when: @triggerBody().tier == #quot;gold#quot; --> vip',
        '    charge_card -- Failed --> refund',
        '    ship -- Succeeded|Failed|Skipped --> cleanup',
      ),
    );
  });

  it('draws a ForEach as a subgraph, polling steps, digit-led keys and an entry-with-When', () => {
    const flow: FlowDefinition = {
      id: '7d4c1a2e-0000-4000-8000-000000000002',
      name: 'Batch',
      triggers: {
        every: { type: 'Cron', inputs: { cronExpression: '*/5 * * * *', timezone: 'Europe/Paris' } },
      },
      steps: {
        fetch: { type: 'Fetch', inputs: { pollEnabled: 'True' } },
        each: {
          type: 'ForEach',
          forEach: "@steps('fetch').output.items",
          concurrencyLimit: 2,
          runAfter: { fetch: ['Succeeded'] },
          steps: {
            process: { type: 'Process' },
            save: { type: 'Save', runAfter: { process: ['Succeeded'] } },
          },
        },
        '1report': { type: 'Report', runAfter: { each: { when: '@steps(\'each\').status == "Succeeded"' } } },
        always: { type: 'Audit', runAfter: { each: {} } },
        gated: { type: 'Gate', runAfter: { '': { when: '@triggerBody().go' } } },
      },
    };
    expect(toMermaid(flow)).toBe(
      text(
        ...STYLES,
        '    T_every["⚡ every<br/>Cron */5 * * * * (Europe/Paris)"]:::trigger',
        '',
        '    fetch["fetch<br/><i>Fetch</i>"]:::polling',
        '    each["each<br/><i>ForEach</i>"]:::loop',
        '    subgraph subgraph_each["🔁 each (ForEach)"]',
        '        each_process["process<br/><i>Process</i>"]:::entry',
        '        each_save["save<br/><i>Save</i>"]',
        '    end',
        '    each --> subgraph_each',
        '    _1report["1report<br/><i>Report</i>"]',
        '    always["always<br/><i>Audit</i>"]',
        '    gated["gated<br/><i>Gate</i>"]:::entry',
        '',
        '    T_every --> fetch',
        '    T_every -- when: @triggerBody().go --> gated',
        '',
        '    fetch -- Succeeded --> each',
        "    each -- when: @steps('each').status == #quot;Succeeded#quot; --> _1report",
        '    each_process -- Succeeded --> each_save',
      ),
    );
  });

  it('gives a flow without triggers its implicit manual trigger and escapes quotes in keys', () => {
    const flow: FlowDefinition = { id: 'f', name: 'Tiny', steps: { 'say "hi"': { type: 'Log' } } };
    expect(toMermaid(flow, { applyStyling: false })).toBe(
      text(
        'flowchart TD',
        '    T_manual["⚡ manual<br/>Manual"]',
        '',
        '    say__hi_["say #quot;hi#quot;<br/><i>Log</i>"]',
        '',
        '    T_manual --> say__hi_',
      ),
    );
  });
});
