import type { Cluster, Redis } from 'ioredis';
import { EMBEDDED_LUA } from '../scripts/embedded-scripts.generated';
import { eventSchemaLua } from '../session-events';

/**
 * Loads the Lua scripts of ./scripts (BullMQ style: `<name>-<numberOfKeys>.lua`, shared fragments
 * in ./scripts/includes pulled in by `--- @include "includes/<name>"`) and registers each with
 * ioredis `defineCommand`, which runs it by EVALSHA and falls back to EVAL after a script flush.
 * The files are embedded at build time (scripts/embed-lua.js), so no app copies them.
 */
const INCLUDE = /^--- @include "([\w/]+)"\s*$/gm;

/** Includes generated from TypeScript, so a fact stated there is not restated in Lua. */
export const GENERATED_INCLUDES: Record<string, () => string> = {
  'generated/eventSchema': eventSchemaLua,
};
const FILE_NAME = /^(\w+)-(\d+)\.lua$/;

export interface ScriptSource {
  name: string;
  numberOfKeys: number;
  lua: string;
}

function expandIncludes(source: string, seen: Set<string>): string {
  return source.replace(INCLUDE, (_, include: string) => {
    if (seen.has(include)) return ''; // each fragment once per script
    seen.add(include);
    const generated = GENERATED_INCLUDES[include];
    if (generated) return generated();
    return expandIncludes(embeddedFile(`${include}.lua`), seen);
  });
}

function embeddedFile(file: string): string {
  const lua = EMBEDDED_LUA[file];
  if (lua === undefined) throw new Error(`Lua file scripts/${file} is not embedded`);
  return lua;
}

let cache: ScriptSource[] | undefined;

export function loadScriptSources(): ScriptSource[] {
  cache ??= Object.keys(EMBEDDED_LUA)
    .map((file) => FILE_NAME.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([file, name, keys]) => ({
      name,
      numberOfKeys: Number(keys),
      lua: expandIncludes(embeddedFile(file), new Set()),
    }));
  return cache;
}

/** Script replies: a status string first, then script-specific values. */
export type ScriptReply = [string, ...(string | number)[]];
type ScriptCommand = (...args: (string | number | Buffer)[]) => Promise<ScriptReply>;

export interface SessionScripts {
  createSession: ScriptCommand;
  validateSession: ScriptCommand;
  updateSession: ScriptCommand;
  rotateSession: ScriptCommand;
  revokeSession: ScriptCommand;
  revokeUserSessions: ScriptCommand;
  revokeOtherSessions: ScriptCommand;
  indexSession: ScriptCommand;
  unindexSession: ScriptCommand;
  purgeRevokedSession: ScriptCommand;
  expireSession: ScriptCommand;
  reconcileGoneSession: ScriptCommand;
  claimDeploymentSettings: ScriptCommand;
  claimSessionFormat: ScriptCommand;
  pruneRevocationEpochs: ScriptCommand;
  reserveCounter: ScriptCommand;
  reserveCounterPair: ScriptCommand;
  refundCounter: ScriptCommand;
  refundCounterPair: ScriptCommand;
}

/** Registers the scripts on a client (idempotent) and returns them as typed commands. */
export function defineSessionScripts(client: Redis | Cluster): SessionScripts {
  const commands = client as unknown as Record<string, ScriptCommand | undefined>;
  for (const script of loadScriptSources()) {
    if (typeof commands[script.name] !== 'function') {
      client.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
  }
  const bound = (name: keyof SessionScripts): ScriptCommand => {
    const command = commands[name];
    if (!command) throw new Error(`Lua script ${name} is missing from libs/session/src/scripts`);
    return command.bind(client);
  };
  return {
    createSession: bound('createSession'),
    validateSession: bound('validateSession'),
    updateSession: bound('updateSession'),
    rotateSession: bound('rotateSession'),
    revokeSession: bound('revokeSession'),
    revokeUserSessions: bound('revokeUserSessions'),
    revokeOtherSessions: bound('revokeOtherSessions'),
    indexSession: bound('indexSession'),
    unindexSession: bound('unindexSession'),
    purgeRevokedSession: bound('purgeRevokedSession'),
    expireSession: bound('expireSession'),
    reconcileGoneSession: bound('reconcileGoneSession'),
    claimDeploymentSettings: bound('claimDeploymentSettings'),
    claimSessionFormat: bound('claimSessionFormat'),
    pruneRevocationEpochs: bound('pruneRevocationEpochs'),
    reserveCounter: bound('reserveCounter'),
    reserveCounterPair: bound('reserveCounterPair'),
    refundCounter: bound('refundCounter'),
    refundCounterPair: bound('refundCounterPair'),
  };
}

/**
 * The same commands, each rejected with `refusal()`'s error while it returns one: how a process
 * that found itself configured unlike its deployment stops writing (see DeploymentSettingsCheck).
 */
export function refusableScripts(
  scripts: SessionScripts,
  refusal: () => Error | undefined,
): SessionScripts {
  const gated = {} as SessionScripts;
  for (const name of Object.keys(scripts) as (keyof SessionScripts)[]) {
    const command = scripts[name];
    gated[name] = (...args) => {
      const error = refusal();
      return error ? Promise.reject(error) : command(...args);
    };
  }
  return gated;
}
