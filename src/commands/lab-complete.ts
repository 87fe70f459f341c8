/** What the learner reads when the last step passes, and from `lab next` at the end: the lab is done, then what. */
import { listLabIds } from '../core/lab-catalog.js';
import type { LabSession } from '../core/lab-session.js';

export function labCompleteMessage(session: LabSession): string {
  const id = session.lab.definition.id;
  const others = listLabIds().filter((other) => other !== id);
  return [
    `Lab ${id} is complete: every step's checks pass.`,
    'What next:',
    ...others.map(
      (other) => `  npx lab start ${other}      the next lab (\`npx lab stop\` first frees this one's ports)`,
    ),
    '  npx lab reset              go through this lab again from step 1 (your files are kept; --hard for fresh starter files)',
    "  npx lab stop               stop this lab's services; your work and progress are kept",
  ].join('\n');
}
