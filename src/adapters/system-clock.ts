import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../core/ports.js';

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => delay(ms),
};
