/**
 * The workload's current X.509-SVID, kept fresh. SPIRE rotates SVIDs well before they expire (half-life by
 * default) and may rotate the CA too, so servers and clients subscribe to updates instead of reading
 * certificates once at start. One source per process; TLS servers and fetch clients hang off it.
 */
import * as grpc from '@grpc/grpc-js';
import { WorkloadApiClient, type X509Svid } from './workload-api-client.js';

type Listener = (svid: X509Svid) => void;

/** A Workload API error with what usually causes it; never includes key material (errors carry none). */
function explain(error: grpc.ServiceError): string {
  // grpc-js ends connection failures with an empty "Resolution note:"; it only adds noise to a log line.
  const detail = (error.details || error.message).replace(/\s*Resolution note:\s*$/, '');
  switch (error.code) {
    case grpc.status.PERMISSION_DENIED:
      return `${detail} (PermissionDenied): is there a registration entry whose selectors match this workload?`;
    case grpc.status.UNAVAILABLE:
      return `${detail} (Unavailable): is the SPIRE agent running, and its socket mounted here?`;
    default:
      return `${detail} (${grpc.status[error.code] ?? error.code})`;
  }
}

function summary(svid: X509Svid): string {
  const leaf = svid.certificates[0];
  return leaf ? `serial ${leaf.serialNumber}, expires ${new Date(leaf.validTo).toISOString()}` : 'no certificate';
}

export class SvidSource {
  private svid: X509Svid | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Set<{ resolve: Listener; reject: (error: Error) => void }>();
  private lastError: string | undefined;
  private stop: (() => void) | undefined;
  private closed = false;

  private constructor(
    /** Named in errors, e.g. "the Workload API at /run/spire/sockets/agent.sock". */
    private readonly origin: string,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Watches the Workload API at `socketPath` (the stream stays open: rotations arrive as updates, and the
   * client reconnects when the agent restarts). Uses the first SVID the agent returns, the default one.
   */
  static fromWorkloadApi(socketPath: string, log: (line: string) => void = () => undefined): SvidSource {
    const source = new SvidSource(`the Workload API at ${socketPath}`, log);
    const client = new WorkloadApiClient(socketPath);
    const stop = client.watchX509(
      (svids) => {
        const [svid] = svids;
        if (!svid) return source.failed('the agent answered with no SVID');
        if (svids.length > 1)
          log(
            `${svids.length} SVIDs issued to this workload; using the first (${svids.map((s) => s.spiffeId).join(', ')})`,
          );
        try {
          source.update(svid);
        } catch (error) {
          log(`applying the SVID for ${svid.spiffeId} failed: ${(error as Error).message}`);
        }
      },
      (error) => source.failed(explain(error)),
    );
    source.stop = () => {
      stop();
      client.close();
    };
    return source;
  }

  /** A source that holds one SVID until update() is called: tests, and checkers holding a minted SVID. */
  static fixed(svid: X509Svid): SvidSource {
    const source = new SvidSource('a fixed SVID', () => undefined);
    source.svid = svid;
    return source;
  }

  current(): X509Svid | undefined {
    return this.svid;
  }

  /** The current SVID, or the first one to arrive; rejects after timeoutMs naming the source and its last error. */
  ready(timeoutMs = 30_000): Promise<X509Svid> {
    if (this.svid) return Promise.resolve(this.svid);
    if (this.closed) return Promise.reject(new Error(`SVID source for ${this.origin} is closed`));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (svid: X509Svid) => settle(() => resolve(svid)),
        reject: (error: Error) => settle(() => reject(error)),
      };
      const timer = setTimeout(() => {
        const why =
          this.lastError ?? 'no answer and no error (is the SPIRE agent running, and its socket mounted here?)';
        waiter.reject(new Error(`no X.509-SVID from ${this.origin} within ${timeoutMs / 1000} s: ${why}`));
      }, timeoutMs);
      const settle = (done: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        done();
      };
      this.waiters.add(waiter);
    });
  }

  /** Calls listener on every later SVID (not the current one). Returns an unsubscribe function. */
  onUpdate(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Makes `svid` current and tells every listener, even when one throws; then throws what they threw, so a
   * caller (a test, or the watch, which logs it) learns that e.g. a server kept its old certificate.
   */
  update(svid: X509Svid): void {
    if (this.closed) return;
    this.describeChange(this.svid, svid);
    this.svid = svid;
    this.lastError = undefined;
    for (const waiter of [...this.waiters]) waiter.resolve(svid);
    const errors: unknown[] = [];
    for (const listener of [...this.listeners]) {
      try {
        listener(svid);
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} SVID listeners failed`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop?.();
    this.listeners.clear();
    for (const waiter of [...this.waiters])
      waiter.reject(new Error(`SVID source for ${this.origin} was closed before an SVID arrived`));
  }

  private failed(message: string): void {
    // The client retries every few seconds: say each distinct problem once, not on every retry.
    if (message !== this.lastError) {
      this.log(
        `${this.origin}: ${message}${this.svid ? ` (keeping ${this.svid.spiffeId}, ${summary(this.svid)})` : ''}`,
      );
    }
    this.lastError = message;
  }

  private describeChange(previous: X509Svid | undefined, next: X509Svid): void {
    if (!previous) this.log(`identity ${next.spiffeId} from ${this.origin} (${summary(next)})`);
    else if (previous.spiffeId !== next.spiffeId)
      this.log(`identity changed: ${previous.spiffeId} -> ${next.spiffeId} (${summary(next)})`);
    else if (previous.certChainPem !== next.certChainPem)
      this.log(`SVID rotated for ${next.spiffeId} (${summary(next)})`);
    if (previous && previous.bundlePem !== next.bundlePem)
      this.log(`trust bundle updated: ${next.bundle.length} CA certificate(s)`);
  }
}
