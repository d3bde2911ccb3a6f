import { STORAGE_CAPABILITIES } from '@floworch/core';
import { checkStorageCapabilities } from '@floworch/core/backend';
import { expect } from 'vitest';
import type { CaseGroup } from '../case.js';
import { type ContractName, missingMethods } from '../contract-methods.js';
import { countTrue, fulfilled, pick, race, T0, uuid } from '../fixtures.js';

/** Capability declaration and `FlowStore` cases. */
export const flowCases: CaseGroup[] = [
  {
    name: 'capabilities',
    cases: [
      {
        id: 'capabilities.declared-match-implemented',
        title: 'declared capabilities equal the contracts present, both ways',
        run: async ({ storage }) => {
          expect(checkStorageCapabilities(storage)).toEqual([]);
          for (const c of storage.capabilities) expect(STORAGE_CAPABILITIES).toContain(c);
        },
      },
      {
        id: 'capabilities.required-contracts-present',
        title:
          'flows, runs and outputs have every method, as does each declared capability; the clock, name and close are there',
        run: async ({ storage, clock }) => {
          const contracts: ContractName[] = ['flows', 'runs', 'outputs', ...storage.capabilities];
          expect(contracts.flatMap((c) => missingMethods(storage, c))).toEqual([]);
          expect(storage.clock.now().getTime()).toBe(clock.now().getTime());
          clock.advance(1234);
          expect(storage.clock.now().getTime()).toBe(T0 + 1234);
          expect(typeof storage.name).toBe('string');
          expect(storage.name.trim()).not.toBe('');
          expect(typeof storage.close).toBe('function');
        },
      },
    ],
  },
  {
    name: 'flows',
    cases: [
      {
        id: 'flows.save.roundtrip',
        title: 'save then get returns every field with store-stamped times',
        run: async ({ storage }) => {
          const id = uuid();
          await storage.flows.save({
            id,
            name: 'Orders',
            version: '2.1',
            manifestJson: '{"steps":{}}',
            isEnabled: false,
          });
          const got = await storage.flows.getById(id);
          expect(got).toMatchObject({
            id,
            name: 'Orders',
            version: '2.1',
            manifestJson: '{"steps":{}}',
            isEnabled: false,
          });
          expect(got!.createdAt.getTime()).toBe(T0);
          expect(got!.updatedAt.getTime()).toBe(T0);
        },
      },
      {
        id: 'flows.get.unknown-null',
        title: 'get of an unknown id returns null',
        run: async ({ storage }) => {
          expect(await storage.flows.getById(uuid())).toBeNull();
        },
      },
      {
        id: 'flows.save.overwrite-keeps-created-at',
        title: 'saving an existing id overwrites fields, keeps createdAt, advances updatedAt',
        run: async ({ storage, clock }) => {
          const id = uuid();
          await storage.flows.save({ id, name: 'A', version: '1.0', manifestJson: null, isEnabled: true });
          clock.advance(60_000);
          await storage.flows.save({
            id,
            name: 'B',
            version: '3.0',
            manifestJson: '{"x":1}',
            isEnabled: false,
          });
          const got = await storage.flows.getById(id);
          expect(got).toMatchObject({ name: 'B', version: '3.0', manifestJson: '{"x":1}', isEnabled: false });
          expect(got!.createdAt.getTime()).toBe(T0);
          expect(got!.updatedAt.getTime()).toBe(T0 + 60_000);
          expect(await storage.flows.getAll()).toHaveLength(1);
        },
      },
      {
        id: 'flows.save.returns-persisted-with-defaults',
        title: 'save returns the persisted record; version defaults to "1.0" and isEnabled to true',
        run: async ({ storage }) => {
          const id = uuid();
          const saved = await storage.flows.save({ id, name: 'Defaults' });
          expect(saved).toMatchObject({
            id,
            name: 'Defaults',
            version: '1.0',
            isEnabled: true,
            manifestJson: null,
          });
          expect(saved.createdAt.getTime()).toBe(T0);
          expect(await storage.flows.getById(id)).toEqual(saved);
        },
      },
      {
        id: 'flows.set-enabled.toggles',
        title: 'setEnabled returns the updated record, persists it and advances updatedAt',
        run: async ({ storage, clock }) => {
          const id = uuid();
          await storage.flows.save({ id, name: 'Toggle' });
          clock.advance(5_000);
          const off = await storage.flows.setEnabled(id, false);
          expect(off.isEnabled).toBe(false);
          expect(off.updatedAt.getTime()).toBe(T0 + 5_000);
          expect((await storage.flows.getById(id))!.isEnabled).toBe(false);
          clock.advance(5_000);
          const on = await storage.flows.setEnabled(id, true);
          expect(on.isEnabled).toBe(true);
          expect(on.createdAt.getTime()).toBe(T0);
          expect((await storage.flows.getById(id))!.updatedAt.getTime()).toBe(T0 + 10_000);
        },
      },
      {
        id: 'flows.set-enabled.unknown-throws-not-found',
        title: 'setEnabled of an unknown id throws FLOW_NOT_FOUND and creates nothing',
        run: async ({ storage }) => {
          const id = uuid();
          await expect(storage.flows.setEnabled(id, false)).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
          expect(await storage.flows.getById(id)).toBeNull();
        },
      },
      {
        id: 'flows.delete.removes',
        title: 'delete removes the definition; other definitions stay',
        run: async ({ storage }) => {
          const a = uuid();
          const b = uuid();
          await storage.flows.save({ id: a, name: 'A' });
          await storage.flows.save({ id: b, name: 'B' });
          await storage.flows.delete(a);
          expect(await storage.flows.getById(a)).toBeNull();
          expect(await storage.flows.getById(b)).not.toBeNull();
        },
      },
      {
        id: 'flows.delete.unknown-noop',
        title: 'delete of an unknown id is a no-op',
        run: async ({ storage }) => {
          await storage.flows.save({ id: uuid(), name: 'Keep' });
          await expect(storage.flows.delete(uuid())).resolves.toBeUndefined();
          expect(await storage.flows.getAll()).toHaveLength(1);
        },
      },
      {
        id: 'flows.get-all.ordered-by-name',
        title: 'getAll orders by name (ordinal: upper-case first), equal names by id ascending',
        run: async ({ storage }) => {
          const twins = [uuid(), uuid(), uuid()];
          for (const name of ['Charlie', 'alpha-ish', 'Bravo', 'Delta'])
            await storage.flows.save({ id: uuid(), name });
          for (const id of twins) await storage.flows.save({ id, name: 'Bravo' });
          const all = await storage.flows.getAll();
          expect(all.map((f) => f.name)).toEqual([
            'Bravo',
            'Bravo',
            'Bravo',
            'Bravo',
            'Charlie',
            'Delta',
            'alpha-ish',
          ]);
          const bravoIds = all.filter((f) => f.name === 'Bravo').map((f) => f.id);
          expect(bravoIds).toEqual([...bravoIds].sort());
          expect(bravoIds).toEqual(expect.arrayContaining(twins));
        },
      },
      {
        id: 'flows.get-all.many-ties',
        title: 'getAll orders many flows of one name by id ascending, whatever the save order',
        run: async ({ storage }) => {
          const ids = Array.from({ length: 70 }, () => uuid());
          for (const id of ids) await storage.flows.save({ id, name: 'Same' });
          expect((await storage.flows.getAll()).map((f) => f.id)).toEqual([...ids].sort());
        },
      },
      {
        id: 'flows.reads-are-copies',
        title: 'mutating a returned definition does not change the store',
        run: async ({ storage }) => {
          const id = uuid();
          await storage.flows.save({ id, name: 'Original' });
          const got = (await storage.flows.getById(id)) as { name: string; createdAt: Date };
          got.name = 'Mutated';
          got.createdAt.setTime(0);
          const again = await storage.flows.getById(id);
          expect(again!.name).toBe('Original');
          expect(again!.createdAt.getTime()).toBe(T0);
        },
      },
      {
        id: 'flows.health-probe',
        title: 'getAll succeeds on a healthy store and returns the definitions',
        run: async ({ storage }) => {
          expect(await storage.flows.getAll()).toEqual([]);
          await storage.flows.save({ id: uuid(), name: 'One' });
          expect(await storage.flows.getAll()).toHaveLength(1);
        },
      },
      {
        id: 'race.flows.concurrent-first-save',
        title: 'concurrent first saves of one new id from many connections: no error, one row',
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const stores = await instances(3);
          const id = uuid();
          const results = fulfilled(
            await race(
              Array.from(
                { length: Math.min(raceWidth, 32) },
                (_, i) => () => pick(stores, i).flows.save({ id, name: `Racer ${i}` }),
              ),
            ),
          );
          expect(results).toHaveLength(Math.min(raceWidth, 32));
          const all = await stores[0]!.flows.getAll();
          expect(all.filter((f) => f.id === id)).toHaveLength(1);
          expect(countTrue(all.map((f) => f.name.startsWith('Racer')))).toBe(1);
        },
      },
    ],
  },
];
