import { floworchProject } from '../../vitest.shared.js';

export default floworchProject('sql');
