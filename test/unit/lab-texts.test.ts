/**
 * The lab texts follow one style (issue 12): `# Step N: title`, a "Try it by hand" and a "Check your work" section,
 * the runner always spelled `npx lab`, commands in fenced blocks (printed indented in a terminal).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { terminalMarkdown } from '../../src/commands/show-step.js';
import { labsDir } from '../../src/core/paths.js';

const STYLED_LABS = ['mcp-integration', 'secure-agents'];

describe.each(STYLED_LABS)('step texts of %s', (lab) => {
  const dir = path.join(labsDir, lab, 'steps');
  const files = readdirSync(dir).filter((f) => f.endsWith('.md'));

  it.each(files)('%s: heading, sections, npx lab', (file) => {
    const text = readFileSync(path.join(dir, file), 'utf8');
    const number = Number(/^(\d+)-/.exec(file)?.[1]);
    expect(text.split('\n')[0]).toMatch(new RegExp(`^# Step ${number}: \\S`));
    expect(text).toMatch(/^## Try it by hand$/m);
    expect(text).toMatch(/^## Check your work$/m);
    // Every mention of the runner as a command is `npx lab …`: a bare `lab check` is the registry's other `lab`.
    const bare = text.match(/(?<!npx )`lab [a-z]/g) ?? [];
    const blockLines = text.match(/^(?:lab|\$ lab) .*/gm) ?? [];
    expect([...bare, ...blockLines]).toEqual([]);
    expect(text).toContain(`npx lab check ${number}`);
  });
});

describe('step text in a terminal', () => {
  it('prints fenced blocks indented, without fence lines', () => {
    const text = ['Run:', '', '```sh', 'npx lab check 1', '', 'npx lab spire entry show', '```', '', 'Done.'].join(
      '\n',
    );
    expect(terminalMarkdown(text)).toBe(
      ['Run:', '', '    npx lab check 1', '', '    npx lab spire entry show', '', 'Done.'].join('\n'),
    );
  });

  it('leaves text without blocks as it is', () => {
    expect(terminalMarkdown('# Step 1: x\n\nplain `code`')).toBe('# Step 1: x\n\nplain `code`');
  });
});
