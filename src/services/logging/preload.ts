/**
 * `node --import <this> service.js` (local runtime): stamps the service's log before its own code runs (see
 * log-stamp.ts); the runtime has already written the run's section marker. LAB_SERVICE_NAME is set for
 * long-running services only.
 */
import { installLogStamp } from './log-stamp.js';

const service = process.env.LAB_SERVICE_NAME;
if (service) installLogStamp(service, { marker: false });
