import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { labsDir } from '../../src/core/paths.js';

/** How many entries of each kind a lab's catalogue holds, read from the files (not from the code under test). */
export function catalogueCounts(lab: string): { mutants: number; variants: number } {
  const dir = path.join(labsDir, lab, 'mutants');
  const kinds = readdirSync(dir)
    .filter((f) => f.endsWith('.patch'))
    .map((f) => /^kind:\s*(\w+)/m.exec(readFileSync(path.join(dir, f), 'utf8'))?.[1]);
  return { mutants: kinds.filter((k) => k === 'mutant').length, variants: kinds.filter((k) => k === 'variant').length };
}
