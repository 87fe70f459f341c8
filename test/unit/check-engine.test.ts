import { describe, expect, it } from 'vitest';
import { runChecks, type PlannedCheck } from '../../src/core/check-engine.js';
import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';

const context = (signal: AbortSignal) => ({ signal }) as CheckContext;
const plan = (...checks: CheckDefinition[]): PlannedCheck[] => checks.map((check) => ({ step: 1, stepId: 's', check }));

describe('check engine', () => {
  it('runs every check even when earlier ones fail or throw', async () => {
    const results = await runChecks(
      plan(
        { id: 'a', title: 'A', run: async () => fail('broken', 'fix it') },
        {
          id: 'b',
          title: 'B',
          run: async () => {
            throw new Error('boom');
          },
        },
        { id: 'c', title: 'C', run: async () => pass('fine') },
      ),
      context,
    );
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['a', 'fail'],
      ['b', 'error'],
      ['c', 'pass'],
    ]);
    expect(results[0]!.fix).toBe('fix it');
    expect(results[1]!.message).toContain('boom');
    expect(results[1]!.fix).toBeTruthy();
  });

  it('bounds each check in time and aborts its signal', async () => {
    let aborted = false;
    const [result] = await runChecks(
      plan({
        id: 'slow',
        title: 'Slow',
        timeoutMs: 50,
        run: (ctx) =>
          new Promise((resolve) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve(pass('late'));
            }),
          ),
      }),
      context,
    );
    expect(result!.status).toBe('timeout');
    expect(result!.fix).toMatch(/lab logs/);
    expect(aborted).toBe(true);
  });

  it('runs independent checks side by side', async () => {
    // Each check waits until the other has started: run one after the other, both would time out.
    let started = 0;
    const bothStarted = () =>
      new Promise<void>((resolve) => {
        const poll = () => (started >= 2 ? resolve() : setTimeout(poll, 5));
        poll();
      });
    const meet = (id: string): CheckDefinition => ({
      id,
      title: id,
      timeoutMs: 2_000,
      run: async () => {
        started++;
        await bothStarted();
        return pass('met');
      },
    });
    const results = await runChecks(plan(meet('x'), meet('y')), context);
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass']);
  });

  it('keeps results in the planned order whatever finishes first', async () => {
    const wait = (ms: number, id: string): CheckDefinition => ({
      id,
      title: id,
      run: () => new Promise((r) => setTimeout(() => r(pass(id)), ms)),
    });
    const results = await runChecks(plan(wait(40, 'first'), wait(1, 'second')), context);
    expect(results.map((r) => r.id)).toEqual(['first', 'second']);
  });
});
