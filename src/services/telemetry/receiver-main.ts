/** The trace receiver as a lab service: HOST, PORT, TRACES_DIR from the runtime (see receiver.ts). */
import { serviceEnv } from '../env.js';
import { createTraceReceiver } from './receiver.js';

const env = serviceEnv('trace-receiver');
const host = env('HOST', '127.0.0.1');
const port = Number(env('PORT'));
const server = createTraceReceiver(env('TRACES_DIR'));
server.listen(port, host, () => console.log(`trace receiver on http://${host}:${port}/v1/traces`));
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
