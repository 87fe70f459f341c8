/**
 * What the runner expects of the learner's agent/connect.ts (whose reference is connect.ts next to this file): the
 * agent job and `lab agent ask` import it by path at run time, so its type is stated here once, not inferred.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ConnectOptions } from './connect.js';

export type Connect = (options: ConnectOptions) => Promise<Client>;
