export { type MermaidOptions, toMermaid } from './to-mermaid.js';
