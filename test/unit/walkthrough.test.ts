/**
 * The walkthrough moves its cursor to the next sensible action (next after a passing check, check after a
 * failing one) and, once every step has passed, offers "done", which ends with the lab-complete message and exit 0.
 * Checks are faked (they would need running services); the menu, the state and the messages are the real ones.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runWalkthrough, sensibleChoice, type WalkthroughActions } from '../../src/cli/walkthrough.js';
import { openActiveSession } from '../../src/core/lab-session.js';
import { fakeContext } from '../helpers/fake-context.js';

const LAB = 'mcp-integration';

function homeAt(currentStep: number, completedSteps: number[], selections: string[]) {
  const home = mkdtempSync(path.join(tmpdir(), 'walkthrough-'));
  writeFileSync(
    path.join(home, 'active.json'),
    JSON.stringify({ lab: LAB, runtime: 'local', since: new Date().toISOString() }),
  );
  mkdirSync(path.join(home, LAB, '.lab'), { recursive: true });
  writeFileSync(
    path.join(home, LAB, '.lab', 'state.json'),
    JSON.stringify({
      version: 1,
      lab: LAB,
      createdAt: new Date().toISOString(),
      currentStep,
      completedSteps,
      hintsShown: {},
      attempts: 0,
      checkRuns: [],
      events: [],
    }),
  );
  return fakeContext(home, undefined, selections);
}

/** Checks that pass (or fail) as scripted, recording the step as completed the way grading does. */
async function scripted(ctx: ReturnType<typeof homeAt>['ctx'], verdicts: Array<'pass' | 'fail'>) {
  const session = await openActiveSession(ctx);
  const checked: Array<number | undefined> = [];
  const actions: WalkthroughActions = {
    check: async (step) => {
      checked.push(step);
      const verdict = verdicts.shift() ?? 'fail';
      if (verdict === 'pass' && step !== undefined)
        session.state.update((s) => {
          if (!s.completedSteps.includes(step)) s.completedSteps.push(step);
        });
      return verdict === 'pass' ? 0 : 1;
    },
    hint: async () => 0,
    next: async () =>
      session.state.update((s) => {
        s.currentStep += 1;
      }),
  };
  return { session, actions, checked };
}

describe('walkthrough cursor', () => {
  it('starts on check, moves to next after a pass, and back to check on the new step', async () => {
    const { ctx, asked } = homeAt(1, [], ['check', 'next', 'quit']);
    const { session, actions, checked } = await scripted(ctx, ['pass']);
    expect(await runWalkthrough(ctx, session, actions)).toBe(0);
    expect(checked).toEqual([1]);
    expect(asked.map((a) => a.initial)).toEqual(['check', 'next', 'check']);
    expect(asked[2]!.message).toBe('Step 2: what next?');
  });

  it('stays on check after a failing check, and quitting keeps that verdict (exit 1)', async () => {
    const { ctx, asked } = homeAt(2, [1], ['check', 'hint', 'quit']);
    const { session, actions } = await scripted(ctx, ['fail']);
    expect(await runWalkthrough(ctx, session, actions)).toBe(1);
    expect(asked.map((a) => a.initial)).toEqual(['check', 'check', 'check']);
    expect(asked[0]!.choices).not.toContain('done');
  });

  it('quitting without checking keeps the command its own exit code', async () => {
    const { ctx } = homeAt(1, [], ['quit']);
    const { session, actions } = await scripted(ctx, []);
    expect(await runWalkthrough(ctx, session, actions)).toBeUndefined();
  });
});

describe('walkthrough at the end of the lab', () => {
  it('after the last step passes, offers done first; done prints the lab-complete message and exits 0', async () => {
    const { ctx, asked, stdout } = homeAt(4, [1, 2, 3], ['check', 'done']);
    const { session, actions } = await scripted(ctx, ['pass']);
    expect(await runWalkthrough(ctx, session, actions)).toBe(0);
    expect(asked[0]!.choices).not.toContain('done');
    expect(asked[0]!.choices).not.toContain('next');
    expect(asked[1]!.initial).toBe('done');
    expect(asked[1]!.choices[0]).toBe('done');
    expect(asked[1]!.message).toContain('is complete');
    const text = stdout.join('\n');
    expect(text).toContain(`Lab ${LAB} is complete`);
    expect(text).toContain('npx lab reset');
  });

  it('done even after a failing check earlier in the walkthrough ends with 0', async () => {
    const { ctx } = homeAt(4, [1, 2, 3], ['check', 'check', 'done']);
    const { session, actions } = await scripted(ctx, ['fail', 'pass']);
    expect(await runWalkthrough(ctx, session, actions)).toBe(0);
  });

  it('at the last step with an earlier step still open, checks every step rather than offering done', async () => {
    const { ctx, asked } = homeAt(4, [1, 4], ['check', 'quit']);
    const { session, actions, checked } = await scripted(ctx, ['fail']);
    await runWalkthrough(ctx, session, actions);
    expect(asked[0]!.choices).not.toContain('done');
    expect(asked[0]!.initial).toBe('check');
    expect(checked).toEqual([undefined]);
  });

  it('sensibleChoice: done, next, or check', () => {
    expect(sensibleChoice({ currentStep: 4, completedSteps: [1, 2, 3, 4] }, 4)).toBe('done');
    expect(sensibleChoice({ currentStep: 2, completedSteps: [1, 2] }, 4)).toBe('next');
    expect(sensibleChoice({ currentStep: 2, completedSteps: [1] }, 4)).toBe('check');
    expect(sensibleChoice({ currentStep: 4, completedSteps: [4] }, 4)).toBe('check');
  });
});
