import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { z } from 'zod';
import { writeJsonAtomic } from '../core/atomic-file.js';
import { EnvironmentError } from '../core/errors.js';
import { readJson, setAside } from '../core/json-record.js';
import type { Clock } from '../core/ports.js';
import type { RuntimeKind } from '../core/runtime.js';

const port = z.number().int().min(1).max(65535);
const serviceName = z.string().regex(/^[a-z][a-z0-9-]*$/);
/** The run id is what marks every process of a run (LAB_RUN_ID): 16 hex digits, never anything a scan could over-match. */
const runId = z.string().regex(/^[0-9a-f]{16}$/);

export const localRecordSchema = z.object({
  kind: z.literal('local'),
  runId,
  startedAt: z.string(),
  ports: z.record(serviceName, port),
  services: z.record(
    serviceName,
    z.object({
      pid: z.number().int().min(2),
      port,
      fingerprint: z.string(),
      startedAt: z.string(),
      /** /proc start time of the process at spawn; absent in records of older runners (never adopted then). */
      startTime: z.string().regex(/^\d+$/).optional(),
    }),
  ),
});

export const dockerRecordSchema = z.object({
  kind: z.literal('docker'),
  runId,
  startedAt: z.string(),
  ports: z.record(serviceName, port),
  fingerprints: z.record(serviceName, z.string()),
});

export type LocalRecord = z.infer<typeof localRecordSchema>;
export type DockerRecord = z.infer<typeof dockerRecordSchema>;

const anyKind = z.object({ kind: z.enum(['local', 'docker']) });

/**
 * .lab/runtime.json: what a runtime started for this workspace (ports, pids or fingerprints, the run id). It is
 * a cache, not the truth: stop and reset find the lab's processes and containers without it. A record that does
 * not pass its schema is set aside with a notice and treated as absent.
 */
/** What every run record starts with: a new run id (the processes' marker), the start time, no ports yet. */
export function freshRun(clock: Clock): { runId: string; startedAt: string; ports: Record<string, number> } {
  return { runId: randomBytes(8).toString('hex'), startedAt: clock.now().toISOString(), ports: {} };
}

export class RuntimeRecord<T extends { kind: RuntimeKind; ports: Record<string, number> }> {
  private readonly file: string;
  private readonly kind: T['kind'];
  private readonly labId: string;
  private readonly schema: z.ZodType<T>;
  private readonly clock: Clock;
  private readonly notice: (message: string) => void;

  constructor(options: {
    file: string;
    kind: T['kind'];
    labId: string;
    schema: z.ZodType<T>;
    clock: Clock;
    notice: (message: string) => void;
  }) {
    ({
      file: this.file,
      kind: this.kind,
      labId: this.labId,
      schema: this.schema,
      clock: this.clock,
      notice: this.notice,
    } = options);
  }

  /** The record, if this runtime wrote it and it is valid. */
  read(): T | undefined {
    const kind = readJson(this.file, anyKind);
    if (kind.status === 'missing') return undefined;
    // Another runtime's record is not corrupt: the lab was last run there.
    if (kind.status === 'ok' && kind.value.kind !== this.kind) return undefined;
    const result = kind.status === 'ok' ? readJson(this.file, this.schema) : kind;
    if (result.status === 'ok') return result.value;
    if (result.status === 'missing') return undefined;
    const moved = setAside(this.file, this.clock.now());
    if (moved)
      this.notice(
        `The runtime record ${this.file} was unusable (${result.reason}); kept it as ${moved}. The lab's processes are found from their run markers instead.`,
      );
    return undefined;
  }

  require(): T {
    const record = this.read();
    if (!record)
      throw new EnvironmentError(
        `The lab ${this.labId} is not running on the ${this.kind} runtime.`,
        `Run \`lab start ${this.labId}\` first.`,
      );
    return record;
  }

  /** A published service's URL on this machine: every port the lab publishes is bound to 127.0.0.1. */
  hostUrl(service: string): URL {
    const port = this.require().ports[service];
    if (port === undefined)
      throw new EnvironmentError(
        `The lab has no running service "${service}".`,
        'Run `lab status` to see the services.',
      );
    return new URL(`http://127.0.0.1:${port}`);
  }

  write(record: T): void {
    writeJsonAtomic(this.file, record);
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}
