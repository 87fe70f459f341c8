import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { listLabIds, loadLab } from '../../src/core/lab-catalog.js';
import { repoDir } from '../../src/core/paths.js';

// The mutant catalogues are line-exact diffs against the learners' starter files: the formatter must leave every
// one of them alone (biome.jsonc), or `npm run format` would make the patches miss.
it('keeps the formatter off every TypeScript file a lab hands to learners', async () => {
  const config = readFileSync(path.join(repoDir, 'biome.jsonc'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const parsed = JSON.parse(config) as { overrides: Array<{ includes: string[]; formatter?: { enabled: boolean } }> };
  const unformatted = parsed.overrides.filter((o) => o.formatter?.enabled === false).flatMap((o) => o.includes);
  const sources = [];
  for (const id of listLabIds())
    sources.push(...(await loadLab(id)).definition.files.map((f) => f.source).filter((s) => s.endsWith('.ts')));
  expect(sources.length).toBeGreaterThan(5);
  expect([...unformatted].sort()).toEqual([...new Set(sources)].sort());
});
