import { readFileSync } from 'node:fs';
import { ROOT } from './server-process';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
}

export interface ProfileShare {
  name: string;
  share: number;
}

export interface ProfileSummary {
  /** Share of samples in which the process was idle (waiting for I/O). */
  idle: number;
  /** Self time by package / project folder / Node internals, as a share of busy samples. */
  byGroup: ProfileShare[];
  /** Self time by function, as a share of busy samples. */
  byFunction: ProfileShare[];
  /**
   * Self time charged to the nearest package or project folder on the stack (Node internals and
   * native code count for whoever called them), as a share of busy samples.
   */
  byOwner: ProfileShare[];
  /** Share of busy samples charged to any of these owners (packages or project folders). */
  ownerShare(names: readonly string[]): number;
}

/** Code of a package or of this project, as opposed to Node internals, V8 and native code. */
function isOwner(group: string): boolean {
  return !group.startsWith('(') && !group.startsWith('node:');
}

/** Where code lives: an npm package, a project folder (apps/api), node:<module>, or V8 itself. */
function groupOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const path = url.replace(/^file:\/\//, '');
  if (path.startsWith(ROOT))
    return path
      .slice(ROOT.length + 1)
      .split('/')
      .slice(0, 2)
      .join('/');
  return path;
}

function top(map: Map<string, number>, total: number, n: number): ProfileShare[] {
  return [...map.entries()]
    .map(([name, hits]) => ({ name, share: hits / total }))
    .sort((a, b) => b.share - a.share)
    .slice(0, n);
}

/** Self-time summary of a .cpuprofile written by cpu-profile-hook.ts. */
export function summarizeProfile(file: string, n = 8): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const parents = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes)
    for (const child of node.children ?? []) {
      const found = byId.get(child);
      if (found) parents.set(found.id, node);
    }
  const groupOfNode = (node: ProfileNode): string =>
    groupOf(node.callFrame.url, node.callFrame.functionName);
  const ownerOf = (node: ProfileNode): string => {
    for (let at: ProfileNode | undefined = node; at; at = parents.get(at.id)) {
      const group = groupOfNode(at);
      if (isOwner(group)) return group;
    }
    return groupOfNode(node);
  };
  const groups = new Map<string, number>();
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, hits: number): void => {
    map.set(key, (map.get(key) ?? 0) + hits);
  };
  let idle = 0;
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    all += hits;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += hits;
      continue;
    }
    const group = groupOfNode(node);
    add(groups, group, hits);
    add(owners, ownerOf(node), hits);
    add(
      functions,
      `${functionName || '(anonymous)'} ${group}${url ? `:${lineNumber + 1}` : ''}`,
      hits,
    );
  }
  const busy = Math.max(1, all - idle);
  return {
    idle: idle / Math.max(1, all),
    byGroup: top(groups, busy, n),
    byFunction: top(functions, busy, n),
    byOwner: top(owners, busy, n + 4),
    ownerShare: (names) => names.reduce((sum, name) => sum + (owners.get(name) ?? 0), 0) / busy,
  };
}

export function formatShares(shares: ProfileShare[]): string {
  return shares.map((s) => `${s.name} ${(s.share * 100).toFixed(1)}%`).join(', ');
}
