import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadScript, runScript, SCRIPTS_DIR } from './redis-streams.scripts';

const files = readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith('.lua'));

describe('libs/streams Lua scripts', () => {
  it('has the lease script', () => {
    expect(files).toContain('renewLeases-1.lua');
  });

  it.each(files)(
    '%s: is named <name>-<numberOfKeys>.lua and documents its KEYS and ARGV',
    (file) => {
      const match = /^(\w+)-(\d+)\.lua$/.exec(file);
      expect(match).not.toBeNull();
      const raw = readFileSync(join(SCRIPTS_DIR, file), 'utf8');
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(raw)?.[1] ?? '';
      for (let k = 1; k <= Number(match![2]); k++) expect(header).toContain(`KEYS[${k}]`);
      expect(header).toMatch(/ARGV\[1\]/);
      // Every KEYS[n] the body uses is declared by the name.
      const used = [...raw.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect(Math.max(...used)).toBe(Number(match![2]));
    },
  );

  it('runs by EVALSHA and falls back to EVAL after a script flush', async () => {
    const script = loadScript('renewLeases-1.lua');
    const calls: unknown[][] = [];
    const redis = {
      call: jest.fn(async (...args: unknown[]) => {
        calls.push(args);
        if (args[0] === 'EVALSHA') throw new Error('NOSCRIPT No matching script');
        return ['1-0'];
      }),
    } as unknown as Redis;
    await expect(runScript(redis, script, ['s'], ['g', 'c', '', '1-0'])).resolves.toEqual(['1-0']);
    expect(calls.map((c) => c[0])).toEqual(['EVALSHA', 'EVAL']);
    expect(calls[0].slice(1)).toEqual([script.sha, 1, 's', 'g', 'c', '', '1-0']);
    expect(calls[1][1]).toBe(script.lua);
  });

  it('refuses a call with the wrong number of keys', async () => {
    const script = loadScript('renewLeases-1.lua');
    await expect(runScript({} as Redis, script, ['a', 'b'], [])).rejects.toThrow(/1 key/);
  });
});
