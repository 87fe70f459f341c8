import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import type { RunTokens } from './run-tracing.js';

/** What the agent did, one JSON object per line; graders read it. Never holds a token or a secret. */
export type TranscriptEvent =
  | { type: 'session_started'; task: string; planner: string }
  | {
      type: 'connected';
      server: { name: string; version: string } | null;
      capabilities: Record<string, unknown> | null;
    }
  | { type: 'tools_listed'; tools: Array<{ name: string; description?: string }> }
  | { type: 'tool_selected'; tool: string; reason: string; arguments: Record<string, unknown> }
  | { type: 'tool_called'; tool: string; isError: boolean; durationMs: number; preview: string; resultIds: string[] }
  | { type: 'finished'; answer: string }
  /** The run's token counts (tool traffic by the tokenizer, model usage as reported) and its trace. */
  | ({ type: 'tokens'; traceId: string | null } & RunTokens)
  | { type: 'error'; stage: string; message: string };

export class Transcript {
  constructor(private readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '');
  }

  write(event: TranscriptEvent): void {
    appendFileSync(this.file, `${JSON.stringify({ ts: new Date().toISOString(), ...event })}\n`);
  }
}
