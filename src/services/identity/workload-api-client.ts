/**
 * A SPIFFE Workload API client: gRPC over the SPIRE agent's unix socket. It keeps the FetchX509SVID stream open,
 * so a rotated SVID (or bundle) arrives as a new update without a restart, and reconnects with back-off when
 * the agent goes away. Identity is whatever the agent attests for this process; nothing is configured here.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoDir } from '../../core/paths.js';

export interface X509Svid {
  spiffeId: string;
  /** Leaf first. */
  certificates: X509Certificate[];
  certChainPem: string;
  keyPem: string;
  bundle: X509Certificate[];
  bundlePem: string;
}

interface RawSvid {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
}

// Through repoDir: the compiled module in dist/ has no copy of the .proto beside it.
const PROTO = path.join(repoDir, 'src', 'services', 'identity', 'workload-api.proto');

/** Splits concatenated DER structures (each a SEQUENCE with a definite length). */
function splitDer(buffer: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (buffer[offset] !== 0x30) throw new Error(`not a DER sequence at byte ${offset}`);
    const first = buffer[offset + 1]!;
    let length = first;
    let header = 2;
    if (first & 0x80) {
      const bytes = first & 0x7f;
      length = 0;
      for (let i = 0; i < bytes; i++) length = length * 256 + buffer[offset + 2 + i]!;
      header = 2 + bytes;
    }
    parts.push(buffer.subarray(offset, offset + header + length));
    offset += header + length;
  }
  return parts;
}

function toSvid(raw: RawSvid): X509Svid {
  const certificates = splitDer(raw.x509_svid).map((der) => new X509Certificate(der));
  const bundle = splitDer(raw.bundle).map((der) => new X509Certificate(der));
  return {
    spiffeId: raw.spiffe_id,
    certificates,
    certChainPem: certificates.map((c) => c.toString()).join(''),
    keyPem: createPrivateKey({ key: raw.x509_svid_key, format: 'der', type: 'pkcs8' })
      .export({ format: 'pem', type: 'pkcs8' })
      .toString(),
    bundle,
    bundlePem: bundle.map((c) => c.toString()).join(''),
  };
}

type Stream = grpc.ClientReadableStream<{ svids: RawSvid[] }>;
type ServiceClient = grpc.Client & { FetchX509SVID(request: object, metadata: grpc.Metadata): Stream };

export class WorkloadApiClient {
  private readonly client: ServiceClient;

  constructor(socketPath: string) {
    const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, defaults: true });
    const Service = (
      grpc.loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor }
    ).SpiffeWorkloadAPI;
    // grpc-js backs off reconnecting up to 120 s by default: a service started before its SPIRE agent (or across
    // an agent restart) would then get its SVID up to two minutes after the agent could give it. 2 s at most.
    const channel = { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 2_000 };
    this.client = new Service(
      `unix://${socketPath}`,
      grpc.credentials.createInsecure(),
      channel,
    ) as unknown as ServiceClient;
  }

  /** Every call must carry this header, or the agent refuses it ("security header missing"). */
  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set('workload.spiffe.io', 'true');
    return metadata;
  }

  /**
   * Calls onUpdate with the workload's SVIDs now and on every rotation; reconnects after errors (reported to
   * onError, e.g. PermissionDenied "no identity issued" until a registration entry matches). Returns a stop function.
   */
  watchX509(
    onUpdate: (svids: X509Svid[]) => void,
    onError: (error: grpc.ServiceError) => void = () => undefined,
  ): () => void {
    let stopped = false;
    let stream: Stream | undefined;
    let delay = 200;
    const connect = () => {
      if (stopped) return;
      stream = this.client.FetchX509SVID({}, this.metadata());
      stream.on('data', (response: { svids: RawSvid[] }) => {
        delay = 200;
        onUpdate(response.svids.map(toSvid));
      });
      stream.on('error', (error: grpc.ServiceError) => {
        if (stopped || error.code === grpc.status.CANCELLED) return;
        onError(error);
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 5_000);
      });
    };
    connect();
    return () => {
      stopped = true;
      stream?.cancel();
    };
  }

  /** The first SVID set the agent issues, waiting (and retrying) up to timeoutMs. */
  fetchX509(timeoutMs = 30_000): Promise<X509Svid[]> {
    return new Promise((resolve, reject) => {
      let last: grpc.ServiceError | undefined;
      const timer = setTimeout(() => {
        stop();
        reject(
          new Error(
            `no X.509-SVID from the Workload API within ${timeoutMs / 1000} s${last ? `: ${last.details || last.message}` : ''}`,
          ),
        );
      }, timeoutMs);
      const stop = this.watchX509(
        (svids) => {
          clearTimeout(timer);
          stop();
          resolve(svids);
        },
        (error) => (last = error),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
