import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { isRedisError } from './redis-streams.parser';
import { EMBEDDED_LUA } from './scripts/embedded-scripts.generated';

/**
 * The transport's Lua scripts, one file each in ./scripts named `<name>-<numberOfKeys>.lua`
 * (as libs/session's and BullMQ's), embedded at build time (scripts/embed-lua.js) so no app
 * copies them. SCRIPTS_DIR is the source directory, for specs.
 */
export const SCRIPTS_DIR = join(__dirname, 'scripts');

export interface StreamsScript {
  name: string;
  numberOfKeys: number;
  lua: string;
  sha: string;
}

const loaded = new Map<string, StreamsScript>();

export function loadScript(file: string): StreamsScript {
  let script = loaded.get(file);
  if (!script) {
    const match = /^(\w+)-(\d+)\.lua$/.exec(file);
    if (!match) throw new Error(`RedisStreams: bad script file name "${file}"`);
    const lua = EMBEDDED_LUA[file];
    if (lua === undefined) throw new Error(`RedisStreams: script ${file} is not embedded`);
    script = {
      name: match[1],
      numberOfKeys: Number(match[2]),
      lua,
      sha: createHash('sha1').update(lua).digest('hex'),
    };
    loaded.set(file, script);
  }
  return script;
}

/**
 * EVALSHA, falling back to EVAL after a script flush (NOSCRIPT). Not `defineCommand`: the
 * connection may be a factory's client or a `Cluster` shared with the user.
 */
export async function runScript(
  redis: Redis | Cluster,
  script: StreamsScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
    throw new Error(`RedisStreams: ${script.name} takes ${script.numberOfKeys} key(s)`);
  }
  const params = [keys.length, ...keys, ...args];
  try {
    return await redis.call('EVALSHA', script.sha, ...params);
  } catch (err) {
    if (!isRedisError(err, 'NOSCRIPT')) throw err;
    return redis.call('EVAL', script.lua, ...params);
  }
}
