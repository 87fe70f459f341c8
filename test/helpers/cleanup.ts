// Runs in every test file (vitest setupFiles): scratch homes and workspaces made by the helpers go away afterwards.
import { afterAll } from 'vitest';
import { removeScratchHomes } from './cli.js';

afterAll(removeScratchHomes);
