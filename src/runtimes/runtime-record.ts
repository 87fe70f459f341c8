import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeJsonAtomic } from '../core/atomic-file.js';
import { EnvironmentError } from '../core/errors.js';
import type { RuntimeKind } from './runtime.js';

/** .lab/runtime.json: what a runtime started for this workspace (ports, pids or fingerprints, the run id). */
export class RuntimeRecord<T extends { kind: RuntimeKind }> {
  constructor(
    private readonly file: string,
    private readonly kind: T['kind'],
    private readonly labId: string,
  ) {}

  /** The record, if this runtime wrote it. */
  read(): T | undefined {
    if (!existsSync(this.file)) return undefined;
    let value: { kind?: string };
    try {
      value = JSON.parse(readFileSync(this.file, 'utf8')) as { kind?: string };
    } catch (error) {
      throw new EnvironmentError(`The runtime record ${this.file} is unreadable (${(error as Error).message}).`, 'Run `lab reset`: it stops whatever the lab still runs and keeps your files.');
    }
    return value.kind === this.kind ? (value as T) : undefined;
  }

  require(): T {
    const record = this.read();
    if (!record) throw new EnvironmentError(`The lab ${this.labId} is not running on the ${this.kind} runtime.`, `Run \`lab start ${this.labId}\` first.`);
    return record;
  }

  write(record: T): void {
    writeJsonAtomic(this.file, record);
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}
