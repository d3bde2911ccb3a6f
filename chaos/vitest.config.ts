import { floworchProject } from '../vitest.shared.js';

// Only the pure checks are unit-tested here; the suite itself runs with `pnpm chaos`.
export default floworchProject('chaos');
