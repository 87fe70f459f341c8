/**
 * Runs learner code (spire/entries.ts, mtls/tls.ts, mcp-server/guard.ts) for the grader, in a child process: a
 * module the learner wrote could otherwise patch the grader's own objects (process.exitCode, JSON.parse,
 * Array.prototype) and make every check pass. The child gets a payload on stdin and prints one
 * `HARNESS {json}` line; what it says is treated as data from learner-controlled code, never as a verdict: the
 * checks judge by what reached the servers they run themselves.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
/** learner-harness.ts under tsx, learner-harness.js once compiled: the same extension as this file. */
const HARNESS = path.join(path.dirname(here), `learner-harness${path.extname(here)}`);
const TSX = createRequire(import.meta.url).resolve('tsx');

class LearnerCodeError extends Error {}

export function runLearnerCode<T>(
  action: 'entries' | 'guard' | 'client',
  payload: unknown,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    // Only what Node needs: the learner's code has no business with the grader's environment.
    const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', NO_COLOR: '1' };
    // Node's own spawn timeout ends a child that never answers (a learner's infinite loop), with SIGKILL.
    const child = spawn(process.execPath, ['--import', TSX, HARNESS, action], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => {
      reject(new LearnerCodeError(`could not run ${path.basename(HARNESS)}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      const line = stdout
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('HARNESS '));
      if (line) {
        try {
          return resolve(JSON.parse(line.slice('HARNESS '.length)) as T);
        } catch {
          // fall through: a broken line is no answer
        }
      }
      const why = signal === 'SIGKILL' ? `did not finish within ${timeoutMs / 1000} s` : `exited with ${code}`;
      const tail = (stderr || stdout)
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('    at '))
        .slice(-3)
        .join(' | ');
      reject(new LearnerCodeError(`${why}${tail ? `: ${tail.slice(0, 400)}` : ''}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(payload));
  });
}
