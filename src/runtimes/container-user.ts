/**
 * Which user the lab's containers run as. Normally the learner's own uid and gid: files the services write in
 * the workspace stay the learner's, and the 0600 secrets are readable by the services that mount them. When the
 * runner itself runs as root (CI, a root shell, a VM image), the learner's uid would make every container root;
 * they run instead as an unprivileged uid that owns nothing else on the host, and the workspace is handed to it
 * before each start (its secrets, the audit folder and the files the services write must be theirs).
 */
import { lchownSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The "nonroot" uid and gid of distroless images: unused by Debian's own accounts. */
export const UNPRIVILEGED_ID = 65532;

export interface ContainerUser {
  uid: number;
  gid: number;
  /** True when the runner is root and the workspace must be handed to `uid` before containers use it. */
  handOver: boolean;
}

export function containerUser(runner: { uid: number; gid: number } | undefined = currentUser()): ContainerUser {
  if (!runner) return { uid: 1000, gid: 1000, handOver: false };
  if (runner.uid === 0) return { uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID, handOver: true };
  return { ...runner, handOver: false };
}

function currentUser(): { uid: number; gid: number } | undefined {
  return process.getuid && process.getgid ? { uid: process.getuid(), gid: process.getgid() } : undefined;
}

/**
 * chown -R without following links (a link in the workspace may point anywhere on the host: only the link
 * itself changes owner). Only the root runner calls this, on a workspace it created.
 */
export function handOverTree(dir: string, user: ContainerUser): void {
  if (!user.handOver) return;
  lchownSync(dir, user.uid, user.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) handOverTree(full, user);
    else lchownSync(full, user.uid, user.gid);
  }
}
