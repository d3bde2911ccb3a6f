import { flowFromManifest, parseManifest } from '../engine/model/index.js';
import { FlowNotFoundError, FlowOrchError, InvalidArgumentError } from '../errors.js';
import { toFlowId } from '../ids.js';
import type { FlowDefinition } from '../model/types.js';
import type { FlowStorage } from '../storage/backend.js';

/**
 * Registers code flows under their stored id ({@link toFlowId}: a UUID lower-cased, a slug mapped
 * to its UUID v5). Each definition is copied with that id, so every layer below (storage, cron
 * job ids, events) sees one canonical id whatever the caller wrote.
 * @throws InvalidArgumentError for a malformed id or an id registered twice
 */
export function registerFlows(flows: readonly FlowDefinition[], into = new Map<string, FlowDefinition>()) {
  for (const flow of flows) {
    if (!flow?.id) throw new InvalidArgumentError('flows', `flow '${flow?.name}' has no id`);
    const id = toFlowId(flow.id, `id of flow '${flow.name}'`);
    if (into.has(id)) throw new InvalidArgumentError('flows', `flow id '${flow.id}' is registered twice`);
    into.set(id, flow.id === id ? flow : { ...flow, id });
  }
  return into;
}

/**
 * Where a client finds flow definitions: the code flows it was given, else the manifests the
 * orchestrators stored (re-read when the stored definition changes).
 */
export class FlowCatalog {
  private readonly stamps = new Map<string, number>();

  /**
   * @param storage the backend
   * @param fromCode whether `known` holds code flows (then the flow store is not consulted)
   * @param known definitions by stored id (shared with the client's engine context)
   */
  constructor(
    private readonly storage: FlowStorage,
    private readonly fromCode: boolean,
    readonly known: Map<string, FlowDefinition>,
  ) {}

  /** The definition of a flow by stored id. @throws FlowNotFoundError */
  async get(id: string): Promise<FlowDefinition> {
    if (this.fromCode) {
      const flow = this.known.get(id);
      if (!flow) throw new FlowNotFoundError(id);
      return flow;
    }
    const record = await this.storage.flows.getById(id);
    if (!record) throw new FlowNotFoundError(id);
    const cached = this.known.get(id);
    if (cached && this.stamps.get(id) === record.updatedAt.getTime()) return cached;
    if (!record.manifestJson) {
      throw new FlowOrchError(
        'NO_MANIFEST',
        `Flow '${id}' has no stored manifest; pass its definition in 'flows'.`,
      );
    }
    const flow = flowFromManifest(parseManifest(record.manifestJson), {
      id: record.id,
      name: record.name,
      version: record.version,
    });
    this.known.set(id, flow);
    this.stamps.set(id, record.updatedAt.getTime());
    return flow;
  }

  /** The definition of a run's flow, or undefined when it cannot be found (a deleted flow). */
  async find(id: string): Promise<FlowDefinition | undefined> {
    try {
      return await this.get(id.toLowerCase());
    } catch (error) {
      if (
        error instanceof FlowOrchError &&
        (error.code === 'FLOW_NOT_FOUND' || error.code === 'NO_MANIFEST')
      ) {
        return undefined;
      }
      throw error;
    }
  }

  /** Every known definition (code flows, else every stored flow with a manifest). */
  async all(): Promise<FlowDefinition[]> {
    if (this.fromCode) return [...this.known.values()];
    const records = await this.storage.flows.getAll();
    const flows: FlowDefinition[] = [];
    for (const record of records) {
      const flow = await this.find(record.id);
      if (flow) flows.push(flow);
    }
    return flows;
  }
}
