/**
 * Fails (exit 1) when a package's `src` has an import cycle, or when `@floworch/core` imports
 * across its layers the wrong way. Run from the repository root: `tsx scripts/check-imports.ts`.
 *
 * Every relative `import`/`export … from`/`import()` counts, type-only ones included: a type
 * cycle still ties the modules' designs together, and a type import that points up a layer is
 * the first step of a runtime one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const packagesDir = join(root, 'packages');

/** Module specifiers of `import`, `export … from` and dynamic `import()` in a source text. */
function specifiersOf(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

/** The source file a relative specifier names (`./x.js` is written for `./x.ts`). */
function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  const candidates = [
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    join(base, 'index.ts'),
    join(base, 'index.tsx'),
  ];
  return candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') files.push(...sourceFiles(path));
    } else if (/\.(m?ts|tsx)$/.test(entry.name) && !/\.(test|spec)\.tsx?$/.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}

/** The import graph of one package's `src`: file → files it imports. */
function importGraph(srcDir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(srcDir)) {
    const targets = specifiersOf(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolveRelative(file, specifier))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const target = edges[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1 || edges.includes(frame.node)) found.push(component);
      }
    }
  }
  return found;
}

/** One concrete loop through a component, so the report names the imports to cut. */
function loopThrough(graph: Map<string, string[]>, component: string[]): string[] {
  const members = new Set(component);
  const start = component[component.length - 1]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

/** Contracts and the bottom of core: what every layer above may use. */
const BASE = ['time', 'logging', 'errors', 'ids', 'model', 'storage'];

/**
 * Layers of `@floworch/core/src`, named by their first path segment (a file directly under `src`
 * is its own layer, e.g. `errors`), each with the layers it may import. `time` and `logging` sit
 * below everything; the storage contracts, flow model, ids and errors describe the same data and
 * may use one another; above them come the engine, the services, the client, and the
 * composition root (`orchestrator`), which only the entry point imports. A folder not listed
 * here is an error, so a new one gets a deliberate place.
 */
const CORE_LAYERS: Readonly<Record<string, readonly string[]>> = {
  time: [],
  logging: [],
  errors: [],
  ids: ['errors', 'storage'],
  model: ['errors', 'ids', 'storage'],
  storage: ['time', 'logging', 'errors', 'ids', 'model'],
  engine: BASE,
  services: ['engine', ...BASE],
  client: ['services', 'engine', ...BASE],
  orchestrator: ['client', 'services', 'engine', ...BASE],
  index: ['orchestrator', 'client', 'services', 'engine', ...BASE],
  // The backend authors' entry: contracts and helpers only, never the engine.
  backend: BASE,
};

function layerOf(srcDir: string, file: string): string {
  const first = relative(srcDir, file).split(sep)[0]!;
  return first.replace(/\.(m?ts|tsx)$/, '');
}

function layerViolations(srcDir: string, graph: Map<string, string[]>): string[] {
  const problems: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(srcDir, file);
    const allowed = CORE_LAYERS[from];
    if (!allowed) {
      problems.push(
        `${relative(root, file)}: '${from}' is not a known layer of core (add it to CORE_LAYERS)`,
      );
      continue;
    }
    for (const target of targets) {
      const to = layerOf(srcDir, target);
      if (to !== from && !allowed.includes(to)) {
        problems.push(
          `${relative(root, file)} imports ${relative(root, target)}: '${from}' may not import '${to}'`,
        );
      }
    }
  }
  return problems;
}

function main(): number {
  const problems: string[] = [];
  for (const name of readdirSync(packagesDir).sort()) {
    const srcDir = join(packagesDir, name, 'src');
    if (!existsSync(srcDir)) continue;
    const graph = importGraph(srcDir);
    for (const component of cycles(graph)) {
      const loop = loopThrough(graph, component).map((file) => relative(srcDir, file));
      problems.push(`packages/${name}/src: import cycle ${loop.join(' -> ')}`);
    }
    if (name === 'core') problems.push(...layerViolations(srcDir, graph));
  }
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`check-imports: ${problems.length} problem(s)`);
    return 1;
  }
  console.log('check-imports: no import cycles, core layers in order');
  return 0;
}

process.exitCode = main();
