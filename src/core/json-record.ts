/**
 * Reading the runner's own JSON files (active.json, runtime.json, state.json) the one way: parsed, then checked
 * against a schema, so that a damaged or hostile file is reported by name and reason and never reaches the code
 * as a wrong-typed value. A bad file is set aside as <file>.corrupt-<time>, kept for inspection, never deleted.
 */
import { fileStamp } from './file-stamp.js';
import { readFileSync, renameSync } from 'node:fs';
import type { z } from 'zod';
import { EnvironmentError } from './errors.js';

export type JsonRead<T> = { status: 'missing' } | { status: 'ok'; value: T } | { status: 'corrupt'; reason: string };

export function readJson<T>(file: string, schema: z.ZodType<T>): JsonRead<T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'missing' };
    return { status: 'corrupt', reason: `cannot be read: ${code ?? (error as Error).message}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { status: 'corrupt', reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { status: 'corrupt', reason: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { status: 'ok', value: parsed.data };
}

/** Moves a bad file aside and returns where it went; undefined when it is already gone (another run moved it). */
export function setAside(file: string, now: Date): string | undefined {
  const target = `${file}.corrupt-${fileStamp(now)}`;
  try {
    renameSync(file, target);
    return target;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new EnvironmentError(
      `The file ${file} is damaged and cannot be moved aside (${code ?? (error as Error).message}).`,
      `Make its folder writable, or move the file away by hand, then run the command again.`,
    );
  }
}
