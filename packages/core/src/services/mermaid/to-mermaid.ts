import {
  ENTRY_WHEN_KEY,
  isEntryStep,
  isForEachStep,
  loopChildren,
  runAfterEntries,
} from '../../engine/model/index.js';
import type { FlowDefinition, FlowManifest, StepDefinition } from '../../model/types.js';

/** Options of {@link toMermaid}. */
export interface MermaidOptions {
  /** Flowchart direction (default `TD`). */
  readonly direction?: 'TD' | 'TB' | 'BT' | 'LR' | 'RL';
  /** Draw one node per trigger wired to every entry step (default true). */
  readonly includeTriggers?: boolean;
  /** Show each step's handler type under its key (default true). */
  readonly showStepTypes?: boolean;
  /** Emit `classDef`s and tag trigger, entry, polling and loop nodes (default true). */
  readonly applyStyling?: boolean;
}

type Steps = Readonly<Record<string, StepDefinition>>;
type Triggers = Readonly<
  Record<string, { readonly type: string; readonly inputs?: Readonly<Record<string, unknown>> }>
>;

const CLASS_DEFS = [
  'classDef trigger fill:#e1f5ff,stroke:#0288d1',
  'classDef entry fill:#c8e6c9,stroke:#388e3c',
  'classDef polling fill:#fff9c4,stroke:#f57f17',
  'classDef loop fill:#f3e5f5,stroke:#7b1fa2',
];

const DEFAULT_TRIGGERS: Triggers = { manual: { type: 'Manual' } };

/** Mermaid node id: anything but letters, digits and `_` becomes `_`; never empty or digit-led. */
function safeId(key: string): string {
  const id = key.replace(/[^\p{L}\p{N}_]/gu, '_');
  return id.length === 0 || /^\p{Nd}/u.test(id) ? `_${id}` : id;
}

/** Inside `"…"` labels a double quote would end the label; Mermaid's entity keeps it visible. */
function escapeLabel(text: string): string {
  return text.replaceAll('"', '#quot;');
}

function inputText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function triggerDetail(trigger: Triggers[string]): string {
  const inputs = trigger.inputs ?? {};
  switch (trigger.type.toLowerCase()) {
    case 'manual':
      return 'Manual';
    case 'cron': {
      const cron = inputText(inputs.cronExpression);
      const zone = inputText(inputs.timezone);
      if (cron === null) return 'Cron';
      return `Cron ${escapeLabel(cron)}${zone ? ` (${escapeLabel(zone)})` : ''}`;
    }
    case 'webhook': {
      const slug = inputText(inputs.webhookSlug);
      return slug === null ? 'Webhook' : `Webhook /${escapeLabel(slug)}`;
    }
    default:
      return escapeLabel(trigger.type);
  }
}

function isPolling(step: StepDefinition): boolean {
  const flag = step.inputs?.pollEnabled;
  return flag === true || (typeof flag === 'string' && flag.trim().toLowerCase() === 'true');
}

function stepClass(step: StepDefinition): string | null {
  if (isForEachStep(step)) return 'loop';
  if (isPolling(step)) return 'polling';
  return isEntryStep(step) ? 'entry' : null;
}

function stepLabel(key: string, step: StepDefinition, options: Required<MermaidOptions>): string {
  const type = typeof step.type === 'string' ? step.type : '';
  return options.showStepTypes && type
    ? `${escapeLabel(key)}<br/><i>${escapeLabel(type)}</i>`
    : escapeLabel(key);
}

/** `Succeeded|Failed when: <expr>`, or null when the condition says nothing worth drawing. */
function edgeLabel(statuses: readonly string[], when: string | null): string | null {
  const parts: string[] = [];
  if (statuses.length > 0) parts.push(statuses.join('|'));
  if (when) parts.push(`when: ${escapeLabel(when)}`);
  return parts.length > 0 ? parts.join(' ') : null;
}

function nodeLine(id: string, label: string, cls: string | null, indent: string, styled: boolean): string {
  return `${indent}${id}["${label}"]${styled && cls ? `:::${cls}` : ''}`;
}

/**
 * Node lines of one scope. Loop children get ids prefixed with the loop's path so a child named
 * like a top-level step never merges with it; their labels stay the plain child key.
 */
function emitNodes(
  lines: string[],
  steps: Steps,
  prefix: string,
  indent: string,
  options: Required<MermaidOptions>,
): void {
  for (const [key, step] of Object.entries(steps)) {
    const id = safeId(prefix + key);
    lines.push(nodeLine(id, stepLabel(key, step, options), stepClass(step), indent, options.applyStyling));
    if (!isForEachStep(step)) continue;
    const type = typeof step.type === 'string' && step.type ? escapeLabel(step.type) : 'ForEach';
    lines.push(`${indent}subgraph subgraph_${id}["🔁 ${escapeLabel(key)} (${type})"]`);
    emitNodes(lines, loopChildren(step), `${prefix}${key}.`, `${indent}    `, options);
    lines.push(`${indent}end`);
    lines.push(`${indent}${id} --> subgraph_${id}`);
  }
}

/** Dependency edges of one scope (and, recursively, of loop children among themselves). */
function emitEdges(lines: string[], steps: Steps, prefix: string): void {
  for (const [key, step] of Object.entries(steps)) {
    for (const [dependency, condition] of runAfterEntries(step)) {
      // The synthetic entry-with-When key has no node; its When is drawn on the trigger edges.
      if (dependency === ENTRY_WHEN_KEY) continue;
      const label = edgeLabel(condition.statuses, condition.when);
      if (label === null) continue;
      // A dotted dependency is already a full path; a plain one names a sibling in this scope.
      const from = dependency.includes('.') ? dependency : prefix + dependency;
      lines.push(`    ${safeId(from)} -- ${label} --> ${safeId(prefix + key)}`);
    }
  }
  for (const [key, step] of Object.entries(steps)) {
    if (isForEachStep(step)) emitEdges(lines, loopChildren(step), `${prefix}${key}.`);
  }
}

function emitTriggerEdges(lines: string[], triggers: Triggers, steps: Steps): void {
  const entries = Object.entries(steps).filter(([, step]) => isEntryStep(step));
  for (const name of Object.keys(triggers)) {
    for (const [key, step] of entries) {
      const when =
        runAfterEntries(step).find(([dependency]) => dependency === ENTRY_WHEN_KEY)?.[1].when ?? null;
      const label = when ? ` -- when: ${escapeLabel(when)} -->` : ' -->';
      lines.push(`    T_${safeId(name)}${label} ${safeId(key)}`);
    }
  }
}

/**
 * Renders a flow (or its manifest) as a Mermaid `flowchart`: trigger nodes wired to the entry
 * steps, one node per step (ForEach steps with their children in a subgraph), and one edge per
 * dependency labelled with its accepted statuses and `when`. Output depends only on the input
 * (declaration order), ends with a single newline and embeds directly in Markdown.
 *
 * @example
 * console.log(toMermaid(orderFlow, { direction: 'LR' }));
 */
export function toMermaid(source: FlowDefinition | FlowManifest, options: MermaidOptions = {}): string {
  const opts: Required<MermaidOptions> = {
    direction: options.direction ?? 'TD',
    includeTriggers: options.includeTriggers ?? true,
    showStepTypes: options.showStepTypes ?? true,
    applyStyling: options.applyStyling ?? true,
  };
  const steps: Steps = source.steps ?? {};
  // A flow that declares no triggers is still started manually (engine default).
  const triggers: Triggers = source.triggers ?? DEFAULT_TRIGGERS;
  const showTriggers = opts.includeTriggers && Object.keys(triggers).length > 0;
  const lines = [`flowchart ${opts.direction}`];
  if (opts.applyStyling) lines.push(...CLASS_DEFS.map((line) => `    ${line}`), '');
  if (showTriggers) {
    for (const [name, trigger] of Object.entries(triggers)) {
      const label = `⚡ ${escapeLabel(name)}<br/>${triggerDetail(trigger)}`;
      lines.push(nodeLine(`T_${safeId(name)}`, label, 'trigger', '    ', opts.applyStyling));
    }
    lines.push('');
  }
  emitNodes(lines, steps, '', '    ', opts);
  if (showTriggers) {
    lines.push('');
    emitTriggerEdges(lines, triggers, steps);
  }
  lines.push('');
  emitEdges(lines, steps, '');
  return `${lines.join('\n').trimEnd()}\n`;
}
